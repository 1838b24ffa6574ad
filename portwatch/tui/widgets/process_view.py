"""Words for the process panel: ProcessDetails and Listener turned into Content, every OS string made safe."""

from __future__ import annotations

import time

from textual.content import Content

from portwatch.model import Listener, Owner, OwnerStatus, PackageFacts, ProcessDetails, ProcessState
from portwatch.text import age, bracket, safe, safe_join
from portwatch.tui.table.rows import EXPOSURE_WORDS, RANGE_GLYPHS

#: A cmdline longer than this is cut, with a note saying how much (text.safe adds it).
CMDLINE_LIMIT = 2000

#: The panel's fields, in order: (key, label).
FIELDS: tuple[tuple[str, str], ...] = (
    ("pid", "PID"),
    ("name", "Name"),
    ("exe", "Exe"),
    ("cmdline", "Cmdline"),
    ("cwd", "Cwd"),
    ("user", "User"),
    ("unit", "Unit"),
    ("container", "Container"),
    ("package", "Package"),
    ("sha256", "SHA-256"),
    ("parents", "Parents"),
    ("started", "Started"),
    ("status", "Status"),
    ("cpu", "CPU"),
    ("memory", "Memory"),
    ("threads", "Threads"),
    ("fds", "Open fds"),
    ("listening", "Listening"),
    ("connections", "Other"),
)

_DENIED = Content.styled("access denied", "$text-warning italic")
_UNKNOWN = Content.styled("-", "$text-muted")


def plain(value: object, limit: int | None = 256) -> Content:
    """An untrusted value as Content: made safe, never parsed as markup."""
    return Content(safe(value, limit))


def size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def socket_line(listener: Listener) -> Content:
    """The highlighted socket, in words: where it listens, its range, who can reach it."""
    address = plain(bracket(listener.address), 66)
    parts: list[str | Content | tuple[str, str]] = [
        (f"{listener.proto.value} ", "bold"),
        address,
        (f":{listener.port}", "bold"),
        "  ",
        (f"{RANGE_GLYPHS[listener.port_range]} {listener.port_range.value}", "bold"),
    ]
    if listener.os_ephemeral:
        parts.append(("  eph", "$text-warning"))
    parts += ["  ", f"exposure: {EXPOSURE_WORDS[listener.exposure]}"]
    if listener.dual_stack:
        parts.append(" (IPv4 too)")
    if listener.service:
        parts += ["  service: ", plain(listener.service, 32)]
    if not listener.netns.is_host:
        parts += ["  netns: ", plain(listener.netns.label, 40), f" ({listener.netns.kind.value})"]
    for link in listener.links:
        parts += ["\n", plain(link.text, 120), f" (via {link.via})"]
    return Content.assemble(*parts)


def flags_content(listener: Listener, has_baseline: bool) -> Content:
    """Whether the baseline expects it, then each flag's code and reason (reasons quote process text: plain)."""
    codes = {flag.code for flag in listener.flags}
    if "udp-client" in codes:
        status = Content.styled("· a client's auto-bound UDP socket: the baseline does not apply", "$text-muted")
    elif "not-in-baseline" in codes:
        status = Content.assemble(
            ("! not in baseline", "bold $text-error"), " — ", ("a", "bold $accent"), " approves it"
        )
    elif has_baseline:
        status = Content.styled("✔ expected (in baseline)", "$text-success")
    else:
        status = Content.assemble(
            ("no baseline loaded", "$text-muted"), ": `portwatch baseline save` records what listens now as expected"
        )
    lines = [status, Content.styled("Flags" if listener.flags else "Flags: none", "bold")]
    for flag in listener.flags:
        if flag.informational:
            lines.append(
                Content.assemble(
                    ("· ", "$text-muted"),
                    (f"{flag.code.value} (info): ", "bold $text-muted"),
                    Content.styled(flag.reason, "$text-muted"),
                )
            )
        else:
            lines.append(
                Content.assemble(
                    ("! ", "bold $text-error"), (f"{flag.code.value}: ", "bold $text-error"), Content(flag.reason)
                )
            )
    return Content("\n").join(lines)


def owner_notice(listener: Listener) -> Content | None:
    """What to say when a listener has no process we can name; None when it has one."""
    if listener.owners:
        return None
    if listener.owner_status is OwnerStatus.HIDDEN:
        who = (
            Content.assemble(" (socket owned by user ", plain(listener.socket_user, 32), ")")
            if listener.socket_user
            else Content("")
        )
        return Content.assemble(
            ("Owner not yours to see", "bold $text-warning"),
            who,
            ": which process holds it is hidden from this user. sudo may reveal it (not if "
            "the kernel or another network namespace holds it).",
        )
    if listener.owner_reason:  # the owner-unknown flag above carries it in full
        return Content.assemble(
            ("No process that we can see holds this socket", "bold"), ": the owner-unknown flag above says why."
        )
    return Content(
        "No process that we can see holds this socket: another network namespace, the kernel, or it just exited."
    )


def pid_line(pids: tuple[int, ...], shown: int) -> Content:
    if len(pids) <= 1:
        return Content(str(shown))
    others = ", ".join(str(pid) for pid in pids if pid != shown)
    return Content.assemble((str(shown), "bold"), f"  (also {others}; ", ("o", "bold $accent"), " shows next)")


def state_notice(details: ProcessDetails) -> Content | None:
    if details.state is ProcessState.EXITED:
        return Content.assemble(("Process has exited", "bold"), f" (pid {details.pid}).")
    if details.state is ProcessState.DENIED:
        return Content.assemble(
            ("Access denied", "bold $text-warning"), f" — run with sudo to see process {details.pid}."
        )
    return None


def _or_denied(value: object, label: str, details: ProcessDetails, limit: int | None = 512) -> Content:
    if value is None or value == "":
        return _DENIED if label in details.denied else _UNKNOWN
    return plain(value, limit)


def package_content(package: PackageFacts | None) -> Content:
    """The package and whether the running file still matches the checksum it recorded."""
    if package is None:
        return _UNKNOWN
    if package.name is None:
        return Content.styled(safe(package.note or "no package owns it", 200), "$text-muted")
    head = Content.assemble(plain(package.name, 64), f" ({package.manager})  ")
    if package.verified is True:
        return Content.assemble(head, ("✔ matches its recorded checksum", "$text-success"))
    if package.verified is False:
        return Content.assemble(
            head, ("✘ does not match its recorded checksum", "bold $text-error"), "\n", plain(package.note, 200)
        )
    return Content.assemble(head, Content.styled(safe(package.note or "not checked", 200), "$text-muted"))


def occupant_fields(owner: Owner | None, details: ProcessDetails) -> dict[str, Content]:
    """Unit, container (or pod), package and SHA-256 of the shown process."""
    container = _UNKNOWN
    if owner is not None and owner.container is not None:
        container = Content.assemble(plain(owner.container.text, 160), ("  " + owner.container.id[:12], "$text-muted"))
    if owner is not None and owner.pod is not None:
        container = (
            Content.assemble(plain(owner.pod.text, 160), "\n", container)
            if owner.container
            else plain(owner.pod.text, 160)
        )
    sha = (
        Content(details.sha256)
        if details.sha256
        else Content.styled(safe(details.sha256_note or "-", 120), "$text-muted")
    )
    return {
        "unit": plain(owner.unit.text, 160) if owner is not None and owner.unit is not None else _UNKNOWN,
        "container": container,
        "package": package_content(owner.package if owner is not None else None),
        "sha256": sha,
    }


def fields(details: ProcessDetails, now: float | None = None, owner: Owner | None = None) -> dict[str, Content]:
    """Every panel field for a readable process; ``owner``: its record in the scan (unit, container, package)."""
    now = time.time() if now is None else now
    values: dict[str, Content] = {
        "name": _or_denied(details.name, "name", details, 128),
        "exe": _or_denied(details.exe, "exe", details),
        "cwd": _or_denied(details.cwd, "cwd", details),
        "user": _or_denied(details.user, "user", details, 64),
        "status": _or_denied(details.status, "status", details, 32),
    }
    if details.real_user and details.user and details.real_user != details.user:
        values["user"] = Content.assemble(
            values["user"], ("  (real: ", "$text-muted"), plain(details.real_user, 64), (")", "$text-muted")
        )
    if details.exe_deleted:
        values["exe"] = Content.assemble(values["exe"], ("  (deleted since start)", "bold $text-error"))
    if details.cwd_deleted:
        values["cwd"] = Content.assemble(values["cwd"], ("  (deleted)", "bold $text-warning"))
    if details.cmdline:
        values["cmdline"] = Content(safe_join(details.cmdline, CMDLINE_LIMIT))
    else:
        values["cmdline"] = _DENIED if "cmdline" in details.denied else Content.styled("(empty)", "$text-muted")
    chain = [Content.assemble(plain(link.name, 64), f" {link.pid}") for link in details.parents]
    values["parents"] = Content(" ← ").join(chain) if chain else _UNKNOWN
    if details.create_time:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(details.create_time))
        values["started"] = Content(f"{stamp}  ({age(now - details.create_time)} ago)")
    else:
        values["started"] = _UNKNOWN
    values["cpu"] = Content("measuring…" if details.cpu_percent is None else f"{details.cpu_percent:.1f} %")
    if details.memory_rss is not None:
        share = f" ({details.memory_percent:.1f} %)" if details.memory_percent is not None else ""
        values["memory"] = Content(f"{size(details.memory_rss)} RSS{share}")
    else:
        values["memory"] = _UNKNOWN
    values["threads"] = Content(str(details.threads)) if details.threads is not None else _UNKNOWN
    values["fds"] = _or_denied(details.open_fds, "open files", details)
    if "sockets" in details.denied:
        values["listening"] = values["connections"] = _DENIED
    else:
        values["listening"] = (
            Content("\n").join(plain(s, 128) for s in details.listening) if details.listening else Content("none")
        )
        values["connections"] = Content(
            ", ".join(f"{state} {count}" for state, count in details.connection_states) or "none"
        )
    values.update(occupant_fields(owner, details))
    return values
