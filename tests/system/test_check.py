"""`portwatch check` and `portwatch baseline save` as a user runs them: real subprocesses, real exit codes.

The machine has sockets of its own, so baselines here allow every port but ours and assertions look at
our port only; the exit-0 test runs in a network namespace of its own, where our listener is the only one.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from tests.json_contract import parse_json
from tests.support import LOOPBACK_UP, NEW_NETNS, Server, fresh_netns_or_skip

REPO = Path(__file__).resolve().parents[2]


def portwatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portwatch", *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )


def allow_all_but(path: Path, port: int | None) -> Path:
    spans = ["0-65535"] if port is None else [f"0-{port - 1}", f"{port + 1}-65535"]
    path.write_text("version = 1\n" + "".join(f'\n[[listener]]\nport = "{span}"\n' for span in spans))
    return path


def test_unexpected_listener_exits_1_and_is_named_with_reasons(
    tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    server = start_server("tcp", "0.0.0.0")
    result = portwatch("check", "--baseline", str(allow_all_but(tmp_path / "b.toml", server.port)))
    assert result.returncode == 1, result.stderr
    [title, *rest] = result.stdout.split(f":{server.port} ", 1)[1].splitlines()
    assert f"pid {server.pid}" in title
    flags = [line for line in rest if line.startswith("  ")][:2]
    assert [line.split(":")[0].strip() for line in flags] == ["dynamic-exposed", "not-in-baseline"]
    assert "need a look" in result.stderr


def test_json_lists_the_unexpected_listener_with_its_flags(tmp_path: Path, start_server: Callable[..., Server]) -> None:
    server = start_server("tcp", "127.0.0.1")
    result = portwatch("check", "--json", "--baseline", str(allow_all_but(tmp_path / "b.toml", server.port)))
    assert result.returncode == 1
    report = parse_json(result.stdout, "check")
    [mine] = [entry for entry in report["unexpected"] if entry["port"] == server.port]
    assert report["ok"] is False and mine["pids"] == [server.pid]
    assert mine["flags"] == [{"code": "not-in-baseline", "reason": mine["flags"][0]["reason"], "informational": False}]


#: Run inside a fresh network namespace: the test's listener is the only one there, then `portwatch check`
#: judges that namespace (argv: BASELINE PATH), and the result comes back as JSON on stdout.
CHECK_IN_NETNS = LOOPBACK_UP + textwrap.dedent("""
    import json, pathlib, socket, subprocess, sys
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    baseline = pathlib.Path(sys.argv[1])
    baseline.write_text(f'version = 1\\n[[listener]]\\nproto = "tcp"\\nport = {port}\\nexposure = "loopback"\\n')
    # --netns host: this namespace only (as root portwatch would otherwise judge every namespace)
    run = [sys.executable, "-m", "portwatch", "check", "--netns", "host", "--baseline", str(baseline)]
    text = subprocess.run(run, capture_output=True, text=True, timeout=60)
    report = subprocess.run([*run, "--json"], capture_output=True, text=True, timeout=60)
    print(json.dumps({"port": port, "returncode": text.returncode, "stdout": text.stdout, "stderr": text.stderr,
                      "json_returncode": report.returncode, "json": report.stdout}))
""")


def test_everything_expected_exits_0(tmp_path: Path) -> None:
    """The verdict is about the test's own listener only: in a network namespace of its own there is nothing
    else to judge, so another program's flagged socket on this machine cannot change it."""
    fresh_netns_or_skip()
    result = subprocess.run(
        [*NEW_NETNS, sys.executable, "-c", CHECK_IN_NETNS, str(tmp_path / "b.toml")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["returncode"] == 0, outcome
    assert outcome["stdout"] == "" and "all 1 listeners expected and unflagged" in outcome["stderr"]
    report = parse_json(outcome["json"], "check")
    assert outcome["json_returncode"] == 0 and report["ok"] is True
    assert report["checked"] == 1 and report["unexpected"] == []  # one listener judged: ours


def test_malformed_baseline_exits_2_with_one_line_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    path.write_text('version = 1\n[[listener]]\nport = "80-"\n')
    result = portwatch("check", "--baseline", str(path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and f"{path}:3: " in result.stderr


def test_unreadable_baseline_and_bad_flags_exit_2(tmp_path: Path) -> None:
    assert portwatch("check", "--baseline", str(tmp_path / "missing.toml")).returncode == 2
    bad = portwatch("check", "--frobnicate")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_baseline_save_refuses_to_overwrite_then_merges(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    assert portwatch("baseline", "save", str(path)).returncode == 0
    saved = path.read_text()
    refused = portwatch("baseline", "save", str(path))
    assert refused.returncode == 2 and "--merge" in refused.stderr and path.read_text() == saved
    assert portwatch("baseline", "save", str(path), "--merge").returncode == 0
    assert path.read_text().startswith(saved)
    assert portwatch("baseline", "save", str(path), "--merge", "--force").returncode == 2  # one or the other


def test_check_and_baseline_do_not_import_textual(tmp_path: Path) -> None:
    probe = (
        f"import sys; from portwatch.cli import main; main(['baseline', 'save', {str(tmp_path / 'b')!r}]);"
        f"main(['check', '--baseline', {str(tmp_path / 'b')!r}]);"
        "print([m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')])"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().endswith("[]"), result.stderr
