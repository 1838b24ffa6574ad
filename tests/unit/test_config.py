"""The config files: parsing, problems as file:LINE, precedence, safe reading and the theme write-back."""

from __future__ import annotations

import os
import pwd
import threading
from pathlib import Path

import pytest

from portwatch import config
from portwatch.config import Config

GOOD = """# my portwatch
interval = 5
theme = "nord"
bell = true
columns = ["port", "process", "user"]

[filters]
ssh = "22"
exposed = "ALL"
"""


def test_every_key_is_read() -> None:
    loaded = config.parse(GOOD, "config.toml")
    assert loaded.problems == ()
    assert loaded.config == Config(
        interval=5.0,
        theme="nord",
        bell=True,
        columns=("port", "process", "user"),
        filters={"ssh": "22", "exposed": "ALL"},
    )


def test_malformed_toml_is_one_problem_with_its_line_and_nothing_is_used() -> None:
    loaded = config.parse('interval = 5\ntheme = "nord\n', "/etc/portwatch/config.toml")
    assert loaded.config == Config()
    [problem] = loaded.problems
    assert problem.startswith("/etc/portwatch/config.toml:2: ")


def test_unknown_keys_are_reported_with_their_line_and_the_rest_is_kept() -> None:
    loaded = config.parse('interval = 3\ncolour = "red"\n', "c.toml")
    assert loaded.config.interval == 3.0
    assert loaded.problems == ("c.toml:2: unknown key 'colour' (known: interval, theme, bell, columns, filters)",)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('interval = "fast"', 1, "interval must be a number"),
        ("interval = 0.1", 1, "at least 0.5"),
        ("interval = inf", 1, "finite"),
        ('\nbell = "yes"', 2, "bell must be true or false"),
        ('columns = ["port", "colour"]', 1, "unknown column 'colour'"),
        ("columns = []", 1, "at least one column"),
        ("[filters]\nssh = 22", 1, "filters must be a table"),
    ],
)
def test_a_wrong_value_is_ignored_with_its_line(text: str, line: int, words: str) -> None:
    loaded = config.parse(text, "c.toml")
    assert loaded.config == Config()
    [problem] = loaded.problems
    assert problem.startswith(f"c.toml:{line}: ") and words in problem, problem


def test_user_overrides_system_and_options_override_both(tmp_path: Path) -> None:
    system, user = tmp_path / "system.toml", tmp_path / "user.toml"
    system.write_text('interval = 10\ntheme = "nord"\n[filters]\nweb = "80"\nssh = "ssh"\n')
    user.write_text('interval = 4\n[filters]\nssh = "22"\n')
    loaded = config.load(user=user, system=system)
    assert loaded.config == Config(interval=4.0, theme="nord", filters={"web": "80", "ssh": "22"})
    assert config.with_options(loaded.config, interval=1.0, bell=None).interval == 1.0


def test_the_system_file_is_injectable_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "etc.toml"
    monkeypatch.setenv(config.SYSTEM_ENV, str(path))
    assert config.system_path() == path
    monkeypatch.delenv(config.SYSTEM_ENV)
    assert config.system_path() == Path("/etc/portwatch/config.toml")


def test_absent_files_set_nothing_and_say_nothing(tmp_path: Path) -> None:
    assert config.load(user=tmp_path / "no.toml", system=tmp_path / "none.toml") == config.Loaded(Config())


def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    result: list[config.Loaded] = []
    reader = threading.Thread(target=lambda: result.append(config.read(fifo)), daemon=True)
    reader.start()
    reader.join(10)
    assert result, "reading a FIFO config hung"
    assert result[0].problems == (f"{fifo}: not a regular file; the config is ignored",)


def test_a_directory_and_a_huge_file_are_refused(tmp_path: Path) -> None:
    assert "not a regular file" in config.read(tmp_path).problems[0]
    huge = tmp_path / "huge.toml"
    huge.write_text("# " + "x" * config.MAX_BYTES)
    assert "too big" in config.read(huge).problems[0]


def test_invalid_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b"interval = 3\n# \xff\n")
    assert config.read(path).problems == (f"{path}:2: the config is not valid UTF-8",)


def test_under_sudo_the_user_file_is_the_invoking_users(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: the sudo rule applies only to root")
    nobody = pwd.getpwnam("nobody")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("SUDO_UID", str(nobody.pw_uid))
    assert config.user_path() == Path(nobody.pw_dir) / ".config" / "portwatch" / "config.toml"


def test_theme_line_is_replaced_keeping_every_other_byte() -> None:
    assert config.theme_text(GOOD, "dracula") == GOOD.replace('theme = "nord"', 'theme = "dracula"')


def test_theme_line_is_added_before_the_first_table_or_at_the_end() -> None:
    assert config.theme_text('# mine\n[filters]\na = "1"\n', "nord") == '# mine\ntheme = "nord"\n[filters]\na = "1"\n'
    assert config.theme_text("interval = 3", "nord") == 'interval = 3\ntheme = "nord"\n'
    assert config.theme_text("", "nord") == 'theme = "nord"\n'


def test_save_theme_writes_atomically_and_keeps_the_users_text(tmp_path: Path) -> None:
    path = tmp_path / "portwatch" / "config.toml"
    path.parent.mkdir()
    path.write_text(GOOD)
    before = path.stat().st_ino
    config.save_theme(path, "dracula")
    assert path.read_text() == GOOD.replace('"nord"', '"dracula"')
    assert path.stat().st_ino != before  # a new file renamed over the old: never half-written
    assert not [p for p in path.parent.iterdir() if p.name != "config.toml"]  # no temporary left behind


def test_save_theme_creates_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    config.save_theme(path, "nord")
    assert path.read_text() == 'theme = "nord"\n'


def test_save_theme_never_replaces_a_fifo_or_a_symlink(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        config.save_theme(fifo, "nord")
    target = tmp_path / "target.toml"
    target.write_text("interval = 3\n")
    link = tmp_path / "link.toml"
    link.symlink_to(target)
    with pytest.raises(ValueError, match="not a regular file"):
        config.save_theme(link, "nord")
    assert link.is_symlink() and target.read_text() == "interval = 3\n"


def test_save_theme_leaves_a_malformed_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("interval = = 3\n")
    with pytest.raises(ValueError, match=r"config\.toml:1"):
        config.save_theme(path, "nord")
    assert path.read_text() == "interval = = 3\n"


def test_live_view_options_override_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from portwatch.cli import _settings, build_parser

    monkeypatch.delenv("SUDO_UID", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv(config.SYSTEM_ENV, str(tmp_path / "system.toml"))
    (tmp_path / "system.toml").write_text("interval = 9\nbell = true\n")
    (tmp_path / "portwatch").mkdir()
    (tmp_path / "portwatch" / "config.toml").write_text("interval = 7\n")
    args = build_parser().parse_args([])
    settings = _settings(args)
    assert (args.interval, args.bell) == (7.0, True)  # user over system
    assert settings.path == tmp_path / "portwatch" / "config.toml"
    args = build_parser().parse_args(["--interval", "1", "--no-bell"])
    _settings(args)
    assert (args.interval, args.bell) == (1.0, False)  # options over both
    (tmp_path / "portwatch" / "config.toml").unlink()
    (tmp_path / "system.toml").unlink()
    args = build_parser().parse_args([])
    _settings(args)
    assert (args.interval, args.bell) == (2.0, False)  # built-in defaults
