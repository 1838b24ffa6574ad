"""What a user types, read strictly: lenient input is wrong input.

``float()`` and ``int()`` accept far more than a person means: ``inf``, ``nan``, ``1e9``, ``1_000``, ``+22``,
``" 22"`` and digits of any script (``٢٢`` is 22 to ``int``). A number of seconds or a port is written here in
ASCII digits only, within bounds that make sense; anything else is an argparse error (one line, exit 2).
"""

from __future__ import annotations

import argparse
import re

#: The longest interval accepted (a day): beyond it a typo is likelier than a wish.
MAX_SECONDS = 86400.0

_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_PORT = re.compile(r"[0-9]{1,5}")


def seconds(text: str, low: float, high: float = MAX_SECONDS, what: str = "") -> float:
    """``text`` as a plain decimal number of seconds in [low, high]; ArgumentTypeError otherwise."""
    if not _SECONDS.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{what}{text!r} is not a number of seconds such as 2 or 0.5")
    value = float(text)
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{what}{text} is outside {low:g}-{high:g} seconds")
    return value


def port(text: str) -> int:
    """``text`` as a port 0-65535 written in ASCII digits; ArgumentTypeError otherwise."""
    if not _PORT.fullmatch(text):
        raise argparse.ArgumentTypeError(f"port {text!r} is not an integer in 0-65535")
    value = int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 0-65535")
    return value
