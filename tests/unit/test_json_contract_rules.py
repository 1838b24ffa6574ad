"""The JSON rules themselves: how undecodable bytes travel, and schemas that agree with the code."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from portwatch.json_text import SCHEMA_VERSION, carry, dumps, recover, schema
from portwatch.listing import capped_cmdline
from portwatch.model import FlagCode

SCHEMAS = ("list", "who", "check")


def test_text_with_undecodable_bytes_gets_a_b64_sibling_and_stays_a_string() -> None:
    out = carry({"name": "a\udcffb", "fine": "ok"})
    assert out == {"name": "a\ufffdb", "name_b64": "Yf9i", "fine": "ok"}
    assert recover(out, "name") == "a\udcffb" and recover(out, "fine") == "ok"


def test_a_list_with_one_undecodable_item_gets_a_parallel_b64_list() -> None:
    out = carry({"cmdline": ["prog", "\udcff\udcfe"]})
    assert out["cmdline"] == ["prog", "\ufffd\ufffd"] and out["cmdline_b64"] == ["cHJvZw==", "//4="]
    assert recover(out, "cmdline") == ["prog", "\udcff\udcfe"]


def test_nested_records_and_other_lone_surrogates_are_carried_too() -> None:
    out = carry({"owners": [{"exe": "/tmp/\ud800x"}]})
    assert out["owners"][0]["exe"] == "/tmp/\ufffd\ufffd\ufffdx" and "exe_b64" in out["owners"][0]


def test_dumps_writes_valid_unicode_json() -> None:
    text = dumps({"name": "\udcff", "cmdline": ["\udcfe"]})
    text.encode("utf-8")  # no lone surrogate survives as a character
    assert "\\udc" not in text  # nor as an escape
    assert json.loads(text)["name"] == "\ufffd"


def test_list_cmdline_is_cut_at_the_limit_over_all_arguments() -> None:
    assert capped_cmdline(["abc", "defg"], 5) == (["abc", "de"], True)
    assert capped_cmdline(["abc", "de"], 5) == (["abc", "de"], False)
    assert capped_cmdline(["abcdef", "g"], 3) == (["abc"], True)
    assert capped_cmdline(["abc"], None) == (["abc"], False)


@pytest.mark.parametrize("name", SCHEMAS)
def test_each_schema_is_a_valid_draft_2020_12_schema_with_version(name: str) -> None:
    document = schema(name)
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert f'"const": {SCHEMA_VERSION}' in json.dumps(document)


def test_the_schemas_share_one_definition_of_listener_owner_flag_and_process() -> None:
    defs = [schema(name)["$defs"] for name in SCHEMAS]
    for key in ("listener", "owner", "flag", "process", "link"):
        assert all(d[key] == defs[0][key] for d in defs), f"$defs/{key} differs between the schemas"


def test_schema_flag_codes_are_the_models() -> None:
    codes = schema("list")["$defs"]["flag"]["properties"]["code"]["enum"]
    assert sorted(codes) == sorted(code.value for code in FlagCode)


def test_an_event_with_undecodable_bytes_is_a_valid_unicode_line_with_the_exact_bytes() -> None:
    import base64

    from portwatch.event_json import event_json
    from portwatch.events import Event, EventKind
    from portwatch.model import Exposure, Family, Listener, Owner, OwnerStatus, PortRange, Proto

    owner = Owner(pid=7, name="pw\udcff", user="root", exe="/tmp/\udcfex", cmdline=("a", "\udcff"))
    listener = Listener(
        proto=Proto.TCP,
        family=Family.IPV4,
        address="127.0.0.1",
        port=4444,
        port_range=PortRange.REGISTERED,
        os_ephemeral=False,
        exposure=Exposure.LOOPBACK,
        service=None,
        owners=(owner,),
        owner_status=OwnerStatus.KNOWN,
    )
    line = json.dumps(event_json(Event(EventKind.OPENED, listener, 1796163674.25), False))
    line.encode("utf-8")
    assert "\\udc" not in line
    [record] = json.loads(line)["listener"]["owners"]
    assert base64.b64decode(record["exe_b64"]) == b"/tmp/\xfex"
    assert [base64.b64decode(arg) for arg in record["cmdline_b64"]] == [b"a", b"\xff"]
    Draft202012Validator(schema("events")).validate(json.loads(line))
