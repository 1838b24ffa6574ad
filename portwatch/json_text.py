"""How portwatch's JSON documents carry text that is not valid UTF-8, and how they are written.

Linux names, argv and paths are bytes. Python decodes them with ``surrogateescape``, so a byte that is not
UTF-8 (``b"\\xff"``) arrives as a lone surrogate (``"\\udcff"``). ``json.dumps`` would write that as the
escape ``"\\udcff"``: ASCII on the wire, but not Unicode text (RFC 8259 section 8.2, I-JSON): strict parsers
reject it, others turn it into U+FFFD and lose the byte.

The rule, for every string anywhere in a document (a field or an item of a list of strings):

- valid text is written as it is (a JSON string);
- text holding undecodable bytes is written as a JSON string with each such byte replaced by U+FFFD (so a
  reader that only wants to show it can), **and** a sibling field ``<field>_b64`` holds the exact bytes,
  base64-encoded (standard alphabet, padded). For a list of strings, ``<field>_b64`` is a list of the same
  length with the base64 of every item (valid items included), so item ``i`` of both lists is one value.

So every document is valid UTF-8 and valid Unicode JSON, a string field is always a string, and nothing is
lost: ``base64.b64decode(record["name_b64"])`` gives the bytes the kernel holds.
"""

from __future__ import annotations

from typing import IO, Any

#: The version of every JSON document portwatch writes. Bump it when a reader of the old documents would
#: misread the new ones (a field removed or changing meaning); added fields do not bump it.
SCHEMA_VERSION = 1


def raw_bytes(text: str) -> bytes:
    """The bytes a surrogate-escaped string came from (other lone surrogates: their WTF-8 bytes)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def is_text(text: str) -> bool:
    """True when ``text`` is valid Unicode (no lone surrogates), i.e. encodable as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(text: str) -> str:
    """``text`` with every undecodable byte as U+FFFD: valid Unicode."""
    return raw_bytes(text).decode("utf-8", "replace")


def _b64(text: str) -> str:
    import base64  # here and below: `portwatch list` imports this module for SCHEMA_VERSION, not json

    return base64.b64encode(raw_bytes(text)).decode("ascii")


def carry(value: Any) -> Any:
    """A copy of a JSON-ready value (dicts, lists, str, numbers, bools, None) following the rule above."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, str) and not is_text(item):
                out[key], out[f"{key}_b64"] = shown(item), _b64(item)
            elif isinstance(item, list) and any(isinstance(s, str) and not is_text(s) for s in item):
                if all(isinstance(s, str) for s in item):
                    out[key], out[f"{key}_b64"] = [shown(s) for s in item], [_b64(s) for s in item]
                else:  # a mixed list has no sibling: its strings are at least made valid
                    out[key] = [shown(s) if isinstance(s, str) else carry(s) for s in item]
            else:
                out[key] = carry(item)
        return out
    if isinstance(value, list):
        return [carry(item) for item in value]
    if isinstance(value, str) and not is_text(value):
        return shown(value)  # a bare string has no field to be a sibling of
    return value


def recover(record: dict[str, Any], key: str) -> Any:
    """The exact value of ``record[key]`` as Python holds it (surrogate-escaped), undoing :func:`carry`."""
    import base64

    encoded = record.get(f"{key}_b64")
    if encoded is None:
        return record[key]
    if isinstance(encoded, list):
        return [base64.b64decode(item).decode("utf-8", "surrogateescape") for item in encoded]
    return base64.b64decode(encoded).decode("utf-8", "surrogateescape")


def dumps(document: Any) -> str:
    """The document as JSON text: ASCII only (non-ASCII as \\u escapes of valid characters), indented."""
    import json

    return json.dumps(carry(document), indent=2, ensure_ascii=True)


def dump(document: Any, stream: IO[str]) -> None:
    stream.write(dumps(document) + "\n")


def schema(name: str) -> dict[str, Any]:
    """The shipped JSON Schema (draft 2020-12) of a document: "list", "who", "check"."""
    import json
    from importlib.resources import files

    loaded: dict[str, Any] = json.loads((files("portwatch") / "schemas" / f"{name}.schema.json").read_text("utf-8"))
    return loaded
