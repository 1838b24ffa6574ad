"""JSON renderings of judged listeners, owners and processes: the `list --json` and `who --json` documents.

Kept apart from portwatch.listing (the plain-terminal text) because these dicts are a contract of their own,
shared by `check --json`, the event stream, the view export and the remote wire format.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from portwatch.json_text import SCHEMA_VERSION
from portwatch.judge import JudgedScan
from portwatch.model import Listener, Netns, Owner, ProcessDetails

#: `list --json` cuts each owner's cmdline to this many characters (all arguments together) and says so with
#: ``cmdline_truncated``; `who --json` carries it whole.
LIST_CMDLINE_LIMIT = 1024


def capped_cmdline(cmdline: Sequence[str], limit: int | None) -> tuple[list[str], bool]:
    """``cmdline`` cut to ``limit`` characters over all its arguments (the last one kept cut), and whether it was."""
    if limit is None or sum(len(arg) for arg in cmdline) <= limit:
        return list(cmdline), False
    kept: list[str] = []
    left = limit
    for arg in cmdline:
        if left <= 0:
            break
        kept.append(arg[:left])
        left -= len(arg)
    return kept, True


def listener_json(listener: Listener, cmdline_limit: int | None = LIST_CMDLINE_LIMIT) -> dict[str, Any]:
    """One listener as `list --json` writes it (``cmdline_limit=None``: every owner's whole cmdline)."""
    return {
        "proto": listener.proto.value,
        "family": listener.family.value,
        "address": listener.address,
        "port": listener.port,
        "range": listener.port_range.value,
        "os_ephemeral": listener.os_ephemeral,
        "exposure": listener.exposure.value,
        "dual_stack": listener.dual_stack,
        "service": listener.service,
        "pids": list(listener.pids),
        "process": listener.process_name,
        "user": listener.user,
        "owner_status": listener.owner_status.value,
        "owner_reason": listener.owner_reason,
        "rpc_program": listener.rpc_program,
        "owners": [owner_json(owner, cmdline_limit) for owner in listener.owners],
        "flags": [
            {"code": flag.code.value, "reason": flag.reason, "informational": flag.informational}
            for flag in listener.flags
        ],
        "netns": netns_json(listener.netns),
        "device": listener.device,
        "published": [
            {
                "direction": link.direction.value,
                "netns": netns_json(link.netns),
                "address": link.address,
                "port": link.port,
                "via": link.via,
                "container": link.container,
                "text": link.text,
            }
            for link in listener.links
        ],
    }


def netns_json(netns: Netns) -> dict[str, Any]:
    return {"inode": netns.inode, "kind": netns.kind.value, "name": netns.name}


def owner_json(owner: Owner, cmdline_limit: int | None = LIST_CMDLINE_LIMIT) -> dict[str, Any]:
    """One owner; ``unit``, ``container`` and ``pod`` are null outside one, ``package`` null when not looked up
    (`list --packages`, `who`, `check` look it up). The cmdline cut to ``cmdline_limit`` characters (None:
    whole), and ``cmdline_truncated`` says whether it was."""
    unit, container, pod, package = owner.unit, owner.container, owner.pod, owner.package
    cmdline, cut = capped_cmdline(owner.cmdline, cmdline_limit)
    return {
        "pid": owner.pid,
        "name": owner.name,
        "user": owner.user,
        "real_user": owner.real_user,
        "exe": owner.exe,
        "cmdline": cmdline,
        "cmdline_truncated": cut,
        "cmdline_args": len(owner.cmdline),
        "create_time": owner.create_time,
        "unit": {"name": unit.name, "kind": unit.kind, "user_uid": unit.user_uid} if unit else None,
        "container": {
            "runtime": container.runtime,
            "id": container.id,
            "name": container.name,
            "image": container.image,
        }
        if container
        else None,
        "pod": {"uid": pod.uid, "namespace": pod.namespace, "name": pod.name} if pod else None,
        "package": {
            "manager": package.manager,
            "name": package.name,
            "verified": package.verified,
            "note": package.note,
        }
        if package
        else None,
    }


def process_json(details: ProcessDetails) -> dict[str, Any]:
    return {
        "pid": details.pid,
        "state": details.state.value,
        "name": details.name,
        "exe": details.exe,
        "exe_deleted": details.exe_deleted,
        "cmdline": list(details.cmdline),
        "cwd": details.cwd,
        "cwd_deleted": details.cwd_deleted,
        "user": details.user,
        "real_user": details.real_user,
        "parents": [{"pid": link.pid, "name": link.name} for link in details.parents],
        "create_time": details.create_time,
        "status": details.status,
        "listening": list(details.listening),
        "denied": list(details.denied),
        "sha256": details.sha256,
        "sha256_note": details.sha256_note,
    }


def list_json(judged: JudgedScan) -> dict[str, Any]:
    """The `list --json` document (portwatch/schemas/list.schema.json)."""
    return {"schema_version": SCHEMA_VERSION, "listeners": [listener_json(entry) for entry in judged.listeners]}


def who_json(judged: JudgedScan, details: dict[int, ProcessDetails], port: int) -> dict[str, Any]:
    """The `who --json` document (portwatch/schemas/who.schema.json): cmdlines whole."""
    return {
        "schema_version": SCHEMA_VERSION,
        "port": port,
        "listeners": [
            listener_json(entry, None) | {"processes": [process_json(details[pid]) for pid in entry.pids]}
            for entry in judged.listeners
        ],
    }
