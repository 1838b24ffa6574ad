"""Every JSON document a test reads from portwatch goes through here: it must be valid UTF-8 text, hold no
lone surrogate, and validate against its shipped schema (portwatch/schemas/NAME.schema.json)."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator

from portwatch.json_text import is_text, schema


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [*value.keys(), *(s for item in value.values() for s in _strings(item))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def validated(document: Any, name: str) -> Any:
    """``document`` (already parsed) checked against schema ``name``; AssertionError naming the problems."""
    validator = Draft202012Validator(schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]
    assert not problems, f"{name} --json breaks its schema:\n" + "\n".join(problems[:20])
    bad = [s for s in _strings(document) if not is_text(s)]
    assert not bad, f"{name} --json carries lone surrogates: {bad[:5]!r}"
    return document


def parse_json(output: str | bytes, name: str) -> Any:
    """Parse portwatch's JSON output (stdout as text or bytes) and validate it against schema ``name``."""
    data = output if isinstance(output, bytes) else output.encode("utf-8", "surrogateescape")
    text = data.decode("utf-8")  # strict: the document must be valid UTF-8
    return validated(json.loads(text), name)
