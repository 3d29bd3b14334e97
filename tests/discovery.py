"""Google's own description of its APIs, as a judge of the requests the function makes.

The Sheets v4 and Drive v3 discovery documents are the ones google-api-python-client ships (a pinned
dev dependency; ``googleapiclient/discovery_cache/documents/``): the same files Google serves at
``https://sheets.googleapis.com/$discovery/rest?version=v4``, with their ``revision``. A request is held
to its method there: the HTTP method and path, every query parameter and value (known name, enum,
type, repeated or not), every field path of a ``fields`` mask (it must exist in the response), and
every field of the JSON body (known name, type, enum, all the way down).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import googleapiclient

DOCUMENTS = Path(googleapiclient.__file__).resolve().parent / "discovery_cache" / "documents"


@dataclass(frozen=True)
class Method:
    api: str
    id: str
    http_method: str
    pattern: re.Pattern[str]
    spec: Mapping[str, Any]
    document: Mapping[str, Any]


@cache
def document(name: str) -> dict[str, Any]:
    """A discovery document by file name (``sheets.v4``, ``drive.v3``)."""
    loaded: dict[str, Any] = json.loads((DOCUMENTS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def _methods(doc: Mapping[str, Any], resources: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for resource in resources.values():
        yield from resource.get("methods", {}).values()
        yield from _methods(doc, resource.get("resources", {}))


@cache
def methods() -> tuple[Method, ...]:
    found = []
    for name in ("sheets.v4", "drive.v3"):
        doc = document(name)
        for spec in _methods(doc, doc.get("resources", {})):
            path = doc.get("servicePath", "") + spec.get("flatPath", spec["path"])
            # {spreadsheetId} is one path segment; {range} may hold "/" (a sheet title can).
            regex = re.sub(
                r"\\\{(\w+)\\\}",
                lambda m: f"(?P<{m.group(1)}>.+)" if m.group(1) == "range" else f"(?P<{m.group(1)}>[^/]+)",
                re.escape(path),
            )
            found.append(Method(name, spec["id"], spec["httpMethod"], re.compile(f"^/{regex}$"), spec, doc))
    return tuple(found)


def find_method(http_method: str, path: str) -> Method | None:
    for method in methods():
        if method.http_method == http_method.upper() and method.pattern.match(path):
            return method
    return None


def check(http_method: str, url: str, body: bytes | None) -> list[str]:
    """Every way the request departs from its method's description; empty when it conforms."""
    parts = urlsplit(url)
    path = parts.path
    method = find_method(http_method, path)
    if method is None:
        return [f"{http_method} {path}: no method of Sheets v4 or Drive v3 has this HTTP method and path"]
    problems: list[str] = []
    where = method.id
    params = {**method.document.get("parameters", {}), **method.spec.get("parameters", {})}
    match = method.pattern.match(path)
    assert match is not None
    for name, value in match.groupdict().items():
        if not unquote(value):
            problems.append(f"{where}: path parameter {name} is empty")
    seen: dict[str, list[str]] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        seen.setdefault(name, []).append(value)
    for name, values in seen.items():
        spec = params.get(name)
        if spec is None or spec.get("location") != "query":
            problems.append(f"{where}: unknown query parameter {name!r}")
            continue
        if len(values) > 1 and not spec.get("repeated"):
            problems.append(
                f"{where}: query parameter {name!r} given {len(values)} times, but it is not repeated"
            )
        for value in values:
            problems += [f"{where}: query {name}: {p}" for p in _scalar(spec, value)]
        if name == "fields":
            response = method.spec.get("response", {}).get("$ref")
            for field_path in parse_fields(values[0]):
                if response is None or not _resolves(method.document, response, field_path):
                    problems.append(
                        f"{where}: fields mask path {'.'.join(field_path)!r} is not in {response}"
                    )
    for name, spec in params.items():
        if spec.get("required") and spec.get("location") == "query" and name not in seen:
            problems.append(f"{where}: required query parameter {name!r} is missing")
    request = method.spec.get("request", {}).get("$ref")
    if body:
        if request is None:
            problems.append(f"{where}: takes no body, but one was sent")
        else:
            try:
                data = json.loads(body)
            except ValueError:
                return [*problems, f"{where}: the body is not JSON"]
            problems += [f"{where}: body{p}" for p in _value(method.document, {"$ref": request}, data, "")]
    return problems


def _scalar(spec: Mapping[str, Any], value: str) -> list[str]:
    kind = spec.get("type")
    if "enum" in spec and value not in spec["enum"]:
        return [f"{value!r} is not one of {spec['enum']}"]
    if kind == "boolean" and value not in ("true", "false"):
        return [f"{value!r} is not a boolean"]
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        return [f"{value!r} is not an integer"]
    return []


def parse_fields(mask: str) -> list[tuple[str, ...]]:
    """The field paths of a mask such as ``a.b,c(d,e/f)`` -> [(a, b), (c, d), (c, e, f)]."""
    paths: list[tuple[str, ...]] = []

    def walk(text: str, prefix: tuple[str, ...]) -> None:
        depth, start = 0, 0
        for i, ch in enumerate(text + ","):
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif ch == "," and depth == 0:
                item = text[start:i].strip()
                start = i + 1
                if not item:
                    continue
                if "(" in item:
                    head, _, inner = item.partition("(")
                    walk(inner[:-1], (*prefix, *re.split(r"[./]", head.strip())))
                else:
                    paths.append((*prefix, *re.split(r"[./]", item)))

    walk(mask, ())
    return paths


def _schema(doc: Mapping[str, Any], spec: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in spec:
        spec = doc["schemas"][spec["$ref"]]
    return spec


def _resolves(doc: Mapping[str, Any], ref: str, path: Sequence[str]) -> bool:
    spec: Mapping[str, Any] = {"$ref": ref}
    for name in path:
        spec = _schema(doc, spec)
        while spec.get("type") == "array":
            spec = _schema(doc, spec["items"])
        if name == "*":
            return True
        properties = spec.get("properties", {})
        if name in properties:
            spec = properties[name]
        elif "additionalProperties" in spec:
            spec = spec["additionalProperties"]
        else:
            return False
    return True


def _value(doc: Mapping[str, Any], spec: Mapping[str, Any], value: Any, at: str) -> list[str]:
    spec = _schema(doc, spec)
    kind = spec.get("type")
    if kind == "any" or (kind is None and "properties" not in spec):
        return []
    if kind == "object" or "properties" in spec:
        if not isinstance(value, dict):
            return [f"{at}: expected an object, got {type(value).__name__}"]
        problems = []
        properties = spec.get("properties", {})
        for key, item in value.items():
            if key in properties:
                problems += _value(doc, properties[key], item, f"{at}.{key}")
            elif "additionalProperties" in spec:
                problems += _value(doc, spec["additionalProperties"], item, f"{at}.{key}")
            else:
                problems.append(f"{at}: unknown field {key!r}")
        return problems
    if kind == "array":
        if not isinstance(value, list):
            return [f"{at}: expected an array, got {type(value).__name__}"]
        items = _schema(doc, spec.get("items", {}))
        if items.get("type") == "any":
            return []
        return [p for i, item in enumerate(value) for p in _value(doc, items, item, f"{at}[{i}]")]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{at}: expected a string, got {type(value).__name__}"]
        if "enum" in spec and value not in spec["enum"]:
            return [f"{at}: {value!r} is not one of {spec['enum']}"]
        return []
    if kind == "integer":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and value.isdigit()
        )
        return [] if ok else [f"{at}: expected an integer, got {value!r}"]
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{at}: expected a number, got {value!r}"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{at}: expected a boolean, got {value!r}"]
    return []
