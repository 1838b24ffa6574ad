"""`portwatch check`'s verdict on a judged scan: informational flags do not fail it, alarming ones do."""

from __future__ import annotations

from portwatch.check import evaluate
from portwatch.judge import JudgedScan
from portwatch.model import EphemeralRange, Exposure, Family, Flag, FlagCode, Listener, PortRange, PortSpan, Proto, Scan


def _listener(*flags: Flag) -> Listener:
    return Listener(Proto.UDP, Family.IPV4, "0.0.0.0", 40000, PortRange.REGISTERED, True, Exposure.ALL, flags=flags)


def test_informational_flags_do_not_fail_the_check() -> None:
    quiet = Scan(
        (_listener(Flag(FlagCode.UDP_CLIENT, "a client", informational=True)),),
        EphemeralRange(PortSpan(32768, 60999)),
        True,
        "test",
        0.0,
    )
    assert evaluate(JudgedScan(quiet, None)).exit_code == 0
    loud = Scan((_listener(Flag(FlagCode.EXE_DELETED, "gone")),), quiet.ephemeral, True, "test", 0.0)
    assert evaluate(JudgedScan(loud, None)).exit_code == 1
