"""portwatch's config files: defaults for the live view (and `list`'s columns), read from TOML.

Two files, the user's over the system's, command-line options over both:

- the system's ``/etc/portwatch/config.toml`` (``PORTWATCH_SYSTEM_CONFIG`` names another, for tests and
  packagers);
- the user's ``platformdirs.user_config_path("portwatch") / "config.toml"`` (``~/.config/portwatch/`` on
  Linux); under sudo the invoking user's, as for the baseline (portwatch.baseline_file).

Keys (all optional)::

    interval = 2.0                      # seconds between refreshes, at least 0.5
    theme = "textual-dark"              # the live view's theme; the command palette's choice is saved here
    bell = false                        # ring the terminal bell with each alert
    columns = ["port", "process", "user", "exposure"]   # only these columns are shown (in their usual order)
    [filters]                           # saved filters, offered in the command palette
    ssh = "22"
    exposed = "ALL"

A file that is not valid TOML is ignored whole with one problem ``file:LINE: what``; a key with a wrong
value, or an unknown key, is ignored with its own problem; portwatch runs on what is left. Pure: reading a
file is the only I/O here (and writing the theme back); nothing imports Textual.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

SYSTEM_PATH = Path("/etc/portwatch/config.toml")
SYSTEM_ENV = "PORTWATCH_SYSTEM_CONFIG"
#: A config file larger than this is refused unread (a config is a few lines).
MAX_BYTES = 64 * 1024
MIN_INTERVAL = 0.5
#: The live view's table columns, by the names `columns` takes (tests/ui keep this equal to the table's).
COLUMN_NAMES = (
    "flags",
    "state",
    "proto",
    "address",
    "exposure",
    "port",
    "process",
    "pids",
    "user",
    "occupant",
    "netns",
    "range",
    "ephemeral",
    "service",
)
KEYS = ("interval", "theme", "bell", "columns", "filters")


@dataclass(frozen=True, slots=True)
class Config:
    """What the files set; None: not set (the built-in default applies)."""

    interval: float | None = None
    theme: str | None = None
    bell: bool | None = None
    columns: tuple[str, ...] | None = None
    filters: Mapping[str, str] = field(default_factory=dict)

    def over(self, base: Config) -> Config:
        """This config's settings over ``base``'s (filters merge, this one's win)."""
        return Config(
            interval=self.interval if self.interval is not None else base.interval,
            theme=self.theme if self.theme is not None else base.theme,
            bell=self.bell if self.bell is not None else base.bell,
            columns=self.columns if self.columns is not None else base.columns,
            filters={**base.filters, **self.filters},
        )


@dataclass(frozen=True, slots=True)
class Loaded:
    config: Config
    #: One line each, "file:LINE: problem"; empty when every file was fine (or absent).
    problems: tuple[str, ...] = ()


def _key_line(lines: list[str], key: str) -> int | None:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=|^\s*\[\s*{re.escape(key)}\s*\]")
    return next((number for number, line in enumerate(lines, 1) if pattern.match(line)), None)


def _check(key: str, value: Any) -> tuple[Any, str | None]:
    """The value for ``key``, or None with the problem."""
    if key == "interval":
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= MIN_INTERVAL:
            return None, f"interval must be a number of seconds of at least {MIN_INTERVAL}, not {value!r}"
        if value == float("inf"):
            return None, "interval must be a finite number of seconds"
        return float(value), None
    if key == "theme":
        if not isinstance(value, str) or not value.strip():
            return None, f"theme must be a theme's name (a string), not {value!r}"
        return value, None
    if key == "bell":
        if not isinstance(value, bool):
            return None, f"bell must be true or false, not {value!r}"
        return value, None
    if key == "columns":
        if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
            return None, "columns must be a list of column names"
        unknown = [name for name in value if name not in COLUMN_NAMES]
        if unknown:
            return None, f"unknown column {unknown[0]!r} (columns: {', '.join(COLUMN_NAMES)})"
        if not value:
            return None, "columns must name at least one column"
        return tuple(dict.fromkeys(value)), None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        return None, 'filters must be a table of name = "filter text"'
    return dict(value), None


def parse(text: str, where: str) -> Loaded:
    """A config's text; problems name ``where`` and the line."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if found:
            return Loaded(Config(), (f"{where}:{found[1]}: {message[: found.start()]} (column {found[2]})",))
        line = max(1, len(text.splitlines()))
        return Loaded(Config(), (f"{where}:{line}: {message.removesuffix(' (at end of document)')}",))
    lines = text.splitlines()
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in data.items():
        at = f"{where}:{_key_line(lines, key) or 1}"
        if key not in KEYS:
            problems.append(f"{at}: unknown key {key!r} (known: {', '.join(KEYS)})")
            continue
        checked, problem = _check(key, value)
        if problem:
            problems.append(f"{at}: {problem}")
        else:
            values[key] = checked
    return Loaded(Config(**values), tuple(problems))


def read(path: Path) -> Loaded:
    """The file at ``path``: absent is fine (nothing set); not a regular file, too big, unreadable or not
    UTF-8 is one problem. Opened without blocking (a FIFO does not hang) and checked before reading."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return Loaded(Config())
    except OSError as error:
        return Loaded(Config(), (f"{path}: cannot read the config: {error.strerror or error}",))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Loaded(Config(), (f"{path}: not a regular file; the config is ignored",))
        if info.st_size > MAX_BYTES:
            return Loaded(Config(), (f"{path}: {info.st_size} bytes is too big for a config (at most {MAX_BYTES})",))
        data = os.read(fd, MAX_BYTES + 1)
    except OSError as error:
        return Loaded(Config(), (f"{path}: cannot read the config: {error.strerror or error}",))
    finally:
        os.close(fd)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return Loaded(Config(), (f"{path}:{line}: the config is not valid UTF-8",))
    return parse(text, str(path))


def system_path() -> Path:
    return Path(os.environ.get(SYSTEM_ENV) or SYSTEM_PATH)


def user_path() -> Path:
    """The user's config file: next to their default baseline (so under sudo, the invoking user's)."""
    from portwatch.baseline_file import default_path

    return default_path().with_name("config.toml")


def load(user: Path | None = None, system: Path | None = None) -> Loaded:
    """The system's config, then the user's over it; every problem of both."""
    base, mine = read(system or system_path()), read(user or user_path())
    return Loaded(mine.config.over(base.config), base.problems + mine.problems)


def with_options(config: Config, **options: Any) -> Config:
    """Command-line options (not None) over the files' settings."""
    return replace(config, **{key: value for key, value in options.items() if value is not None})


_THEME_LINE = re.compile(r"^\s*theme\s*=.*$", re.M)
_FIRST_TABLE = re.compile(r"^\s*\[", re.M)


def theme_text(text: str, theme: str) -> str:
    """``text`` with its top-level ``theme = …`` line replaced (or one added before the first table), every
    other byte kept."""
    from portwatch.baseline_file import toml_string

    line = f"theme = {toml_string(theme)}"
    table = _FIRST_TABLE.search(text)
    top = text[: table.start()] if table else text
    found = _THEME_LINE.search(top)
    if found:
        return text[: found.start()] + line + text[found.end() :]
    if table:
        return text[: table.start()] + line + "\n" + text[table.start() :]
    return text + ("" if not text or text.endswith("\n") else "\n") + line + "\n"


def save_theme(path: Path, theme: str) -> None:
    """Keep the live view's theme choice in the user's config: atomically, only into a regular file (or a new
    one), keeping the rest of the user's text. OSError / ValueError (with the reason) when it cannot."""
    from portwatch.baseline_file import atomic_write, invoking_user

    try:
        info = os.lstat(path)
    except FileNotFoundError:
        before = ""
    else:
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path} is not a regular file: the theme is not saved")
        loaded = read(path)
        if loaded.problems:
            raise ValueError(f"{loaded.problems[0]}: the theme is not saved until it is fixed")
        before = path.read_text("utf-8")
    after = theme_text(before, theme)
    problems = parse(after, str(path)).problems
    if problems and not parse(before, str(path)).problems:
        raise ValueError(f"{problems[0]}: the theme is not saved")
    atomic_write(path, after.encode("utf-8"), invoking_user())


@dataclass(frozen=True, slots=True)
class Settings:
    """What the CLI resolved: the merged config (options already over the files), the files' problems, and
    the user's file where a theme choice is kept (None: never written, as in tests)."""

    config: Config = field(default_factory=Config)
    problems: tuple[str, ...] = ()
    path: Path | None = None

    @property
    def hidden_columns(self) -> frozenset[str]:
        shown = self.config.columns
        return frozenset() if shown is None else frozenset(COLUMN_NAMES) - frozenset(shown)
