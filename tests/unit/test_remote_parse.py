"""The fallback's `ss` parser and the ssh error classifier, on fixed text: hostile names cannot fake records."""

from __future__ import annotations

import os
import stat

from portwatch.collect import remote_fallback
from portwatch.collect.ssh import Ran, SshProblem, SshTarget, SshTransport, classify
from portwatch.model import Family, Proto
from portwatch.remote.host import RemoteHost, RemoteMode, RemoteOptions

#: A process named 'a"b\ntcp LISTEN 0 1 0.0.0.0:1 *:*' (ss stops a name at ")", so it can hold no ")").
SS = (
    b'udp UNCONN 0      0          [::1]:43219    [::]:* users:(("a"b\ntcp LISTEN 0 1 0.0.0.0:1 *:* x",pid=7,fd=4))'
    b" ino:29415 sk:ba cgroup:/ v6only:1 <->\n"
    b'tcp LISTEN 0      128    127.0.0.1:38679 0.0.0.0:* users:(("x",pid=1,fd=3",pid=13021,fd=3),("web",pid=9,fd=5))'
    b" uid:1000 ino:29414 sk:bb cgroup:/ <->         \n"
    b"tcp LISTEN 0      128      0.0.0.0%lo:2024  0.0.0.0:* ino:640 sk:1 cgroup:/ <->\n"
    b"tcp LISTEN 0      128    [::ffff:127.0.0.1]:5000  [::]:* ino:641 sk:2 cgroup:/ v6only:0 <->\n"
)


def test_ss_records_are_parsed_whole_even_when_a_name_holds_a_newline() -> None:
    sockets = remote_fallback.parse_ss(SS)
    assert [(s.proto, s.address, s.port) for s in sockets] == [
        (Proto.UDP, "::1", 43219),
        (Proto.TCP, "127.0.0.1", 38679),
        (Proto.TCP, "0.0.0.0", 2024),
        (Proto.TCP, "::ffff:127.0.0.1", 5000),
    ]
    udp, tcp, bound, mapped = sockets
    assert udp.pids == (7,) and udp.inode == 29415 and udp.v6only is True and udp.family is Family.IPV6
    assert tcp.pids == (9, 13021) and tcp.uid == 1000  # the real pid is the last ",pid=" before ")"
    assert bound.pids == () and bound.uid == 0
    assert mapped.v6only is False


def test_owner_fields_come_from_proc_as_the_local_collector_reads_them() -> None:
    stat_line = b"4242 (a) b\n)c) S 1 1 1 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 250 0 0\n"
    data = (
        b"/tmp/srv (deleted)\n\x00" + stat_line + b"\x00Name:\tx\nUid:\t1000\t1000\t1000\t1000\n\x00srv\x00-p\x00\x00"
    )
    owner = remote_fallback.parse_owner(4242, data, boot=1000.0, clock_ticks=100, names={1000: "ann"})
    assert owner is not None
    assert (owner.name, owner.user, owner.exe, owner.cmdline) == ("a) b\n)c", "ann", "/tmp/srv", ("srv", "-p", ""))
    assert owner.create_time == 1002.5


def test_a_cut_script_output_is_an_error() -> None:
    try:
        remote_fallback.split_sections(b"@@portwatch-fallback 1\n@@ss\n7463\n")
    except remote_fallback.FallbackError as error:
        assert "incomplete" in str(error)
    else:
        raise AssertionError("no error for a cut output")


def test_ssh_failures_are_classified_in_one_line() -> None:
    changed = classify(
        "web1", "@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.\n"
    )
    assert changed.problem is SshProblem.HOST_KEY_CHANGED and "\n" not in str(changed)
    assert (
        classify(
            "h",
            "No ED25519 host key is known for h and you have requested strict checking.\n"
            "Host key verification failed.\n",
        ).problem
        is SshProblem.HOST_KEY_UNKNOWN
    )
    assert classify("h", "ssh: connect to host h port 22: Connection refused\n").problem is SshProblem.UNREACHABLE
    assert classify("h", "root@h: Permission denied (publickey).\n").problem is SshProblem.AUTH_FAILED
    assert classify("h", "client_loop: send disconnect: Broken pipe\n").problem is SshProblem.LOST


def test_ssh_runs_in_batch_mode_with_strict_host_keys_and_a_private_control_socket() -> None:
    transport = SshTransport(SshTarget("ann@web1", ("UserKnownHostsFile=/k",), "/cfg", 2222))
    try:
        argv = transport.argv("true")
        assert argv[:3] == ["ssh", "-F", "/cfg"]
        options = [argv[i + 1] for i, word in enumerate(argv) if word == "-o"]
        assert options.index("BatchMode=yes") < options.index("UserKnownHostsFile=/k")  # ours win: first value
        assert "StrictHostKeyChecking=yes" in options and "ControlMaster=auto" in options
        control = next(o for o in options if o.startswith("ControlPath=")).split("=", 1)[1]
        folder = control.rsplit("/", 1)[0]
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
        assert argv[-3:] == ["--", "ann@web1", "true"]
        assert argv[argv.index("-p") + 1] == "2222"
    finally:
        transport.close()


class _Canned(SshTransport):
    def __init__(self, ran: Ran) -> None:
        super().__init__(SshTarget("h"))
        self.ran = ran

    def run(self, command: str, timeout: float = 60.0, stdin: bytes | None = None) -> Ran:
        return self.ran


def test_a_missing_remote_portwatch_switches_auto_mode_to_the_fallback() -> None:
    host = RemoteHost(_Canned(Ran(127, b"", "sh: 1: portwatch: not found\n")))
    assert host.read_portwatch(host.transport.run("x")) is None
    assert host.mode is RemoteMode.FALLBACK and "not found" in (host.fallback_reason or "")


def test_a_remote_portwatch_without_stream_is_too_old_when_required() -> None:
    host = RemoteHost(
        _Canned(Ran(2, b"", "portwatch: error: invalid choice: 'stream' (see --help)\n")),
        RemoteOptions(mode=RemoteMode.PORTWATCH),
    )
    try:
        host.read_portwatch(host.transport.run("x"))
    except Exception as error:
        assert "too old" in str(error) and getattr(error, "refused", False)
    else:
        raise AssertionError("an old remote portwatch was accepted")
