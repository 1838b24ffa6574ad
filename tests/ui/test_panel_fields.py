"""The process panel's fields for facts the collector marks: what a user reads beside each one."""

from __future__ import annotations

from portwatch.model import ProcessDetails, ProcessState
from portwatch.tui.widgets.process_view import fields


def test_deleted_working_directory_is_marked_in_the_panel() -> None:
    details = ProcessDetails(42, ProcessState.OK, name="srv", cwd="/tmp/gone", cwd_deleted=True)
    assert fields(details, now=0.0)["cwd"].plain == "/tmp/gone  (deleted)"


def test_existing_working_directory_is_shown_plain() -> None:
    details = ProcessDetails(42, ProcessState.OK, name="srv", cwd="/srv")
    assert fields(details, now=0.0)["cwd"].plain == "/srv"
