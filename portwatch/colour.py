"""When portwatch colours its output: one rule for `list` and the live view.

In order, the first that applies decides:

1. ``--color always`` / ``--color never`` (the command line wins over the environment);
2. ``NO_COLOR`` set and not empty: no colour (no-color.org: an empty value is as if unset);
3. ``FORCE_COLOR`` set and not empty, or ``CLICOLOR_FORCE`` set and not ``0``: colour, even into a pipe;
4. ``TERM=dumb``: no colour;
5. otherwise colour exactly when the output is a terminal.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from typing import IO

CHOICES = ("auto", "always", "never")


def wants_colour(stream: IO[str], choice: str = "auto", environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if choice != "auto":
        return choice == "always"
    if env.get("NO_COLOR", ""):
        return False
    if env.get("FORCE_COLOR", "") or env.get("CLICOLOR_FORCE", "0") not in ("", "0"):
        return True
    if env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except ValueError:  # a closed stream
        return False


def tui_environment(colour: bool, environ: MutableMapping[str, str]) -> None:
    """Textual turns monochrome when NO_COLOR is present at all (even empty): say what the rule decided."""
    if colour:
        environ.pop("NO_COLOR", None)
    else:
        environ["NO_COLOR"] = "1"
