"""The report document as JSON, the JSON Schema it follows (``REPORT_SCHEMA``), and a small validator
for the part of JSON Schema that schema uses.

    from scapinspect.report import build_report, render_json, validate
    doc = build_report(["intrusion.scap"])
    assert validate(doc) == []
    Path("report.json").write_text(render_json(doc), encoding="utf-8")

Strings from the capture are kept as they are (JSON escapes control characters); only bytes that were
not valid UTF-8 appear as ``\\xNN`` text. Times are ISO 8601 UTC with nanoseconds
(``2024-03-14T03:12:45.165261209Z``); durations are seconds. Table cells are JSON scalars.
"""
from __future__ import annotations

import json
import re

_SCALAR = {"type": ["string", "integer", "number", "boolean", "null"]}
_STR_OR_NULL = {"type": ["string", "null"]}
_TIME = {"type": ["string", "null"], "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$"}
SEVERITIES = ["critical", "high", "medium", "low"]

REPORT_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "scapinspect.report/1",
    "title": "scapinspect capture report",
    "type": "object",
    "required": ["schema", "generator", "generated_at", "scope", "rules", "captures"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": "scapinspect.report/1"},
        "generator": {"type": "object", "required": ["name", "version"],
                      "properties": {"name": {"type": "string"}, "version": {"type": "string"}}},
        "generated_at": {"type": "string", "description": "when the report was made, ISO 8601 UTC"},
        "scope": {
            "type": "object", "required": ["filter", "start", "end"], "additionalProperties": False,
            "description": "the sysdig filter and time range every section of every capture is narrowed to",
            "properties": {"filter": _STR_OR_NULL, "start": _STR_OR_NULL, "end": _STR_OR_NULL},
        },
        "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
        "captures": {"type": "array", "items": {"$ref": "#/$defs/capture"}},
    },
    "$defs": {
        "rule": {
            "type": "object", "required": ["id", "title", "severity", "description"], "additionalProperties": False,
            "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                           "severity": {"enum": SEVERITIES}, "description": {"type": "string"}},
        },
        "capture": {
            "type": "object", "additionalProperties": False,
            "required": ["path", "name", "status", "error", "info", "warnings", "tiles", "timeline", "findings",
                         "sections"],
            "properties": {
                "path": {"type": "string"}, "name": {"type": "string"},
                "status": {"enum": ["ok", "failed"], "description": "failed: the capture could not be read"},
                "error": _STR_OR_NULL,
                "info": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/info"}]},
                "warnings": {"type": "array", "items": {"type": "string"}},
                "tiles": {"type": "array", "items": {"$ref": "#/$defs/tile"}},
                "timeline": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/timeline"}]},
                "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
                "sections": {"type": "array", "items": {"$ref": "#/$defs/section"}},
            },
        },
        "info": {
            "type": "object", "additionalProperties": False,
            "required": ["hostname", "compat", "events_in_file", "events_selected", "file_first_event",
                         "file_last_event", "first_event", "last_event", "duration_s", "counts"],
            "properties": {
                "hostname": _STR_OR_NULL, "compat": {"type": "string"},
                "events_in_file": {"type": "integer", "minimum": 0},
                "events_selected": {"type": "integer", "minimum": 0},
                "file_first_event": _TIME, "file_last_event": _TIME, "first_event": _TIME, "last_event": _TIME,
                "duration_s": {"type": "number", "minimum": 0},
                "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
        "tile": {
            "type": "object", "required": ["name", "value", "unit", "category"], "additionalProperties": False,
            "properties": {"name": {"type": "string"}, "value": _SCALAR, "unit": {"type": "string"},
                           "category": {"type": "string"}},
        },
        "timeline": {
            "type": "object", "required": ["status", "note", "freq", "series"], "additionalProperties": False,
            "properties": {
                "status": {"enum": ["ok", "error"]}, "note": _STR_OR_NULL, "freq": _STR_OR_NULL,
                "series": {"type": "array", "items": {
                    "type": "object", "required": ["metric", "points"], "additionalProperties": False,
                    "properties": {"metric": {"type": "string"}, "points": {"type": "array", "items": {
                        "type": "array", "items": _SCALAR, "minItems": 2, "maxItems": 2,
                        "description": "[bucket start (ISO 8601 UTC), value]"}}}}},
            },
        },
        "finding": {
            "type": "object", "additionalProperties": False,
            "required": ["rule", "severity", "time", "process", "pid", "detail", "evt_num"],
            "properties": {"rule": {"type": "string"}, "severity": {"enum": SEVERITIES}, "time": _TIME,
                           "process": _STR_OR_NULL, "pid": {"type": ["integer", "null"]},
                           "detail": {"type": "string"}, "evt_num": {"type": ["integer", "null"]}},
        },
        "section": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "title", "status", "note", "columns", "rows", "total_rows"],
            "properties": {
                "id": {"enum": ["spy_users", "connections", "http", "top_processes", "top_files", "top_errors"]},
                "title": {"type": "string"},
                "status": {"enum": ["ok", "not available", "error"]},
                "note": _STR_OR_NULL,
                "columns": {"type": "array", "items": {"type": "string"}},
                "rows": {"type": "array", "items": {"type": "array", "items": _SCALAR}},
                "total_rows": {"type": "integer", "minimum": 0,
                               "description": "rows before the report cut the table (rows may hold fewer)"},
            },
        },
    },
}

_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "null": type(None),
          "object": dict, "array": list}


def _type_ok(value: object, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def _resolve(ref: str, root: dict) -> dict:
    node = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _check(value: object, schema: dict, root: dict, path: str, errors: list[str]) -> None:
    if "$ref" in schema:
        return _check(value, _resolve(schema["$ref"], root), root, path, errors)
    if "anyOf" in schema:
        tries = [_errors(value, s, root, path) for s in schema["anyOf"]]
        if all(tries):
            # report the form the value was meant to have: the one whose type it has
            wrong_type = f"{path}: expected "
            tries.sort(key=lambda errs: (errs[0].startswith(wrong_type), len(errs)))
            errors.extend(tries[0])
        return None
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else types
        if not any(_type_ok(value, t) for t in names):
            errors.append(f"{path}: expected {' or '.join(names)}, got {type(value).__name__}")
            return None
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: expected {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "minimum" in schema \
            and value < schema["minimum"]:
        errors.append(f"{path}: {value} is below {schema['minimum']}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, dict):
        _check_object(value, schema, root, path, errors)
    if isinstance(value, list):
        _check_array(value, schema, root, path, errors)
    return None


def _check_object(value: dict, schema: dict, root: dict, path: str, errors: list[str]) -> None:
    props = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in value:
            errors.append(f"{path}: missing {key!r}")
    extra = schema.get("additionalProperties", True)
    for key, v in value.items():
        if key in props:
            _check(v, props[key], root, f"{path}.{key}", errors)
        elif extra is False:
            errors.append(f"{path}: unexpected property {key!r}")
        elif isinstance(extra, dict):
            _check(v, extra, root, f"{path}.{key}", errors)


def _check_array(value: list, schema: dict, root: dict, path: str, errors: list[str]) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        errors.append(f"{path}: fewer than {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(f"{path}: more than {schema['maxItems']} items")
    if "items" in schema:
        for i, v in enumerate(value):
            _check(v, schema["items"], root, f"{path}[{i}]", errors)


def _errors(value: object, schema: dict, root: dict, path: str) -> list[str]:
    errs: list[str] = []
    _check(value, schema, root, path, errs)
    return errs


def validate(doc: object, schema: dict | None = None) -> list[str]:
    """The ways ``doc`` breaks ``schema`` (REPORT_SCHEMA by default), one line each; [] when it is valid.

    Understands type, const, enum, minimum, pattern, properties, required, additionalProperties, items,
    minItems, maxItems, anyOf and local $ref: what REPORT_SCHEMA uses."""
    root = schema or REPORT_SCHEMA
    return _errors(doc, root, root, "$")


def render_json(doc: dict, *, indent: int | None = 2) -> str:
    """The report document as JSON text (UTF-8, capture strings unchanged)."""
    return json.dumps(doc, indent=indent, ensure_ascii=False, allow_nan=False) + "\n"


__all__ = ["REPORT_SCHEMA", "validate", "render_json"]
