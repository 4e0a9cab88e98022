"""Checks recorded HTTP exchanges against a vendor's OpenAPI description, with openapi-schema-validator.

Why our own matcher around the library rather than openapi-core: the descriptions come in two dialects
(OpenAPI 3.0 for Kantata and crm.com, swagger 2.0 for Autotask), openapi-core reads only 3.x, and what this
project needs is narrower and stricter than a generic request validator: *no undeclared key* in a request body
(a misspelled field is silently dropped by a real server) and, in responses, none in the schemas the vendor
transcribed in full (an emulator inventing a field hides a client that reads it). The library does the JSON
Schema work (OAS 3.0 ``nullable``, formats); this module finds the operation, the parameters, the security
requirement and the schema, and makes objects closed.

A description is loaded once per platform with the override table applied (``_overrides.py``), so every
correction of a vendor's text lives in that one table and nowhere here; swagger 2.0 is then read as OpenAPI 3.0
(``_swagger2.py``).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator

from ._overrides import Override, apply_overrides
from ._swagger2 import to_openapi3

__all__ = ["ApiDescription", "Exchange", "Operation", "load_description"]

_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Exchange:
    """One request a client sent and the answer it got, as bytes on the wire."""

    request: httpx.Request
    response: httpx.Response

    def label(self) -> str:
        return f"{self.request.method} {self.request.url.path} -> {self.response.status_code}"


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    spec: Mapping[str, Any]
    path_parameters: Mapping[str, Any]


def load_description(path: Path, platform: str, overrides: Iterable[Override], *, base_path: str) -> ApiDescription:
    # Decimal, as the SDK reads JSON: the documented examples then parse through the wire models as served.
    document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    # Overrides address the vendor's own text (its pointers), so they apply before a swagger 2.0 conversion.
    return ApiDescription(to_openapi3(apply_overrides(document, platform, overrides)), base_path=base_path)


class ApiDescription:
    """The operations of one description; ``check_request``/``check_response`` return problems, [] when fine."""

    def __init__(self, document: Mapping[str, Any], *, base_path: str) -> None:
        self.document = _resolve(document, document)
        self.base_path = base_path
        self.operations: list[Operation] = []
        #: Paths the SDK calls that the description leaves out (an override row lists them, with the reason).
        self.unchecked = [_pattern(t) for t in self.document.get("x-unchecked-paths", [])]
        #: Suffixes a path may carry beyond its template (Kantata's optional ``.json``; an override row again).
        self.suffixes: list[str] = list(self.document.get("x-path-suffixes", []))
        for template, item in self.document.get("paths", {}).items():
            pattern = _pattern(template)
            shared = item.get("parameters", [])
            for method in _METHODS:
                if method in item:
                    op = item[method]
                    params = {p["name"]: p for p in [*shared, *op.get("parameters", [])] if p.get("in") == "path"}
                    self.operations.append(Operation(method.upper(), template, pattern, op, params))
        # A literal path wins over a template that also matches it (``/x/entityInformation`` before ``/x/{id}``).
        self.operations.sort(key=lambda op: op.template.count("{"))

    # -- lookup -------------------------------------------------------------------------------------
    def relative(self, url: httpx.URL) -> str:
        path = url.path
        if self.base_path and not path.startswith(self.base_path):
            return ""
        return path[len(self.base_path) :] or "/"

    def find(self, method: str, url: httpx.URL) -> tuple[Operation, dict[str, str]] | None:
        path = self.relative(url)
        path = next((path.removesuffix(s) for s in self.suffixes if path.endswith(s)), path)
        for op in self.operations:
            m = op.pattern.match(path)
            if m and op.method == method.upper():
                return op, m.groupdict()
        return None

    def judge(self, exchange: Exchange) -> list[str]:
        """Every problem of one exchange: the request, then (when the request fits and its status is documented:
        injected faults and throttles are the sandbox's own) the answer. Paths outside the base path, and the
        ones listed as unchecked, are not this description's to judge."""
        path = self.relative(exchange.request.url)
        if not path or any(p.match(path) for p in self.unchecked):
            return []
        found = self.check_request(exchange.request)
        if exchange.response.status_code == 401:
            # Sent without a credential the operation documents, and refused for it: the documented outcome.
            found = [p for p in found if "no security requirement is met" not in p]
        if found or self._documented(exchange) is None:
            return found
        return self.check_response(exchange)

    def _documented(self, exchange: Exchange) -> Mapping[str, Any] | None:
        found = self.find(exchange.request.method, exchange.request.url)
        responses = found[0].spec.get("responses", {}) if found else {}
        status = str(exchange.response.status_code)
        return responses.get(status) or responses.get(f"{status[0]}XX") or responses.get("default")

    # -- requests -----------------------------------------------------------------------------------
    def check_request(self, request: httpx.Request) -> list[str]:
        found = self.find(request.method, request.url)
        if found is None:
            return [f"{request.method} {request.url.path}: no such operation in the description"]
        op, path_values = found
        problems = [f"path {name}: {e}" for name, e in self._params(op.path_parameters, path_values)]
        declared = {p["name"]: p for p in op.spec.get("parameters", []) if p.get("in") == "query"}
        query = dict(request.url.params.multi_items())
        problems += [f"query {name!r} is not a documented parameter" for name in query if name not in declared]
        problems += [f"query {name}: {e}" for name, e in self._params(declared, query)]
        problems += self._headers(op, request.headers)
        problems += self._body(op, request)
        return [f"{request.method} {op.template}: {p}" for p in problems]

    def _params(self, declared: Mapping[str, Any], values: Mapping[str, str]) -> Iterable[tuple[str, str]]:
        for name, param in declared.items():
            if name not in values:
                if param.get("required"):
                    yield name, "required but absent"
                continue
            schema = param.get("schema", {})
            yield from ((name, e) for e in _errors(schema, _coerce(values[name], schema)))

    def _headers(self, op: Operation, headers: httpx.Headers) -> list[str]:
        problems = [
            f"header {p['name']} is required but absent"
            for p in op.spec.get("parameters", [])
            if p.get("in") == "header" and p.get("required") and p["name"] not in headers
        ]
        requirements = op.spec.get("security", self.document.get("security", []))
        schemes = self.document.get("components", {}).get("securitySchemes", {})
        if requirements and not any(all(_satisfied(schemes[n], headers) for n in r) for r in requirements):
            names = " or ".join("+".join(r) or "(none)" for r in requirements)
            problems.append(f"no security requirement is met (documented: {names})")
        return problems

    def _body(self, op: Operation, request: httpx.Request) -> list[str]:
        content = request.content
        documented = op.spec.get("requestBody")
        if not content:
            return ["a request body is required but none was sent"] if documented and documented["required"] else []
        if documented is None:
            return ["a body was sent but the operation documents none"]
        media = request.headers.get("content-type", "").split(";")[0].strip()
        if media not in documented["content"]:
            return [f"content type {media!r} is not one of {sorted(documented['content'])}"]
        schema = _closed(documented["content"][media].get("schema", {}), strict=True)
        return [f"body: {e}" for e in _errors(schema, json.loads(content))]

    # -- responses ----------------------------------------------------------------------------------
    def check_response(self, exchange: Exchange) -> list[str]:
        found = self.find(exchange.request.method, exchange.request.url)
        if found is None:
            return [f"{exchange.label()}: no such operation in the description"]
        op = found[0]
        documented = self._documented(exchange)
        where = f"{op.method} {op.template} -> {exchange.response.status_code}"
        if documented is None:
            return [f"{where}: status not documented (documented: {sorted(op.spec.get('responses', {}))})"]
        content = documented.get("content")
        if not content:
            # Documented in prose only: the description is silent on the body, so nothing is checked.
            return []
        media = exchange.response.headers.get("content-type", "").split(";")[0].strip()
        if media not in content:
            return [f"{where}: content type {media!r} is not one of {sorted(content)}"]
        schema = _closed(content[media].get("schema", {}), strict=False)
        return [f"{where}: {e}" for e in _errors(schema, json.loads(exchange.response.content))]

    # -- examples -----------------------------------------------------------------------------------
    def examples(self) -> Iterable[tuple[str, Any]]:
        """(label, value) of every documented request and response example."""
        for op in self.operations:
            bodies = [("request", op.spec.get("requestBody") or {})]
            bodies += [(f"response {code}", r) for code, r in op.spec.get("responses", {}).items()]
            for kind, body in bodies:
                for media in body.get("content", {}).values():
                    for name, example in media.get("examples", {}).items():
                        yield f"{op.method} {op.template} {kind} {name}", example.get("value")


def _pattern(template: str) -> re.Pattern[str]:
    """``/billing_milestones/{id}`` as a regex; a parameter spans neither ``/`` nor ``.`` (a ``.json`` suffix)."""
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/.]+)", re.escape(template)) + "$")


def _satisfied(scheme: Mapping[str, Any], headers: httpx.Headers) -> bool:
    if scheme["type"] == "apiKey" and scheme["in"] == "header":
        return bool(headers.get(scheme["name"], "").strip())
    if scheme["type"] == "http" and scheme["scheme"].lower() == "bearer":
        kind, _, token = headers.get("authorization", "").partition(" ")
        return kind.lower() == "bearer" and bool(token.strip())
    return False


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    """A query or path value as the type its schema names (the wire has only strings)."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    if kind == "array":
        return raw.split(",")
    return raw


def _errors(schema: Mapping[str, Any], instance: Any) -> list[str]:
    validator = OAS30Validator(schema, format_checker=OAS30Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(instance)]


def _resolve(node: Any, root: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """The document with every local ``$ref`` inlined (with the keys beside it). A reference back into itself
    (Autotask's nested filters) is inlined once and left open below that: its first level is checked, deeper
    ones are not."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            # Keys beside a reference (an override's ``nullable``) are kept: they speak about the referent.
            beside = {k: _resolve(v, root, seen) for k, v in node.items() if k != "$ref"}
            if ref in seen:
                return beside
            target: Any = root
            for part in ref.removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return {**_resolve(target, root, (*seen, ref)), **beside}
        return {k: _resolve(v, root, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, root, seen) for v in node]
    return node


def _closed(schema: Mapping[str, Any], *, strict: bool) -> dict[str, Any]:
    """A copy where each object schema with ``properties`` refuses other keys.

    ``allOf`` members are merged into their parent first (the crm.com description wraps nearly every object in
    a one-member ``allOf``), since a closed member would refuse its siblings' keys. With ``strict=False`` a
    schema the transcriber marked ``x-elided`` (properties left out on purpose) stays open, with its subtree.
    """
    out = copy.deepcopy(dict(schema))
    for member in out.pop("allOf", []):
        member = _closed(member, strict=strict)
        out.setdefault("properties", {}).update(member.pop("properties", {}))
        out["required"] = sorted({*out.get("required", []), *member.pop("required", [])})
        if not out["required"]:
            del out["required"]
        for key, value in member.items():
            out.setdefault(key, value)
    if not strict and "x-elided" in out:
        return out
    if "properties" in out:
        out["properties"] = {k: _closed(v, strict=strict) for k, v in out["properties"].items()}
        out.setdefault("additionalProperties", False)
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = _closed(out["additionalProperties"], strict=strict)
    if isinstance(out.get("items"), dict):
        out["items"] = _closed(out["items"], strict=strict)
    return out
