"""Swagger 2.0 (Autotask's dialect) read as the OpenAPI 3.0 shapes ``ApiDescription`` checks against.

Only what a request and response check reads is carried over: parameters (a ``body`` parameter becomes the
``requestBody``, the others get a ``schema``), responses (``schema`` under each ``produces`` media type), and
``securityDefinitions``. Schemas are the same JSON Schema subset in both dialects, ``x-nullable`` aside.
"""

from __future__ import annotations

from typing import Any

__all__ = ["to_openapi3"]

_SCHEMA_KEYS = ("type", "format", "items", "enum", "default", "minimum", "maximum", "pattern", "minLength", "maxLength")


def to_openapi3(document: dict[str, Any]) -> dict[str, Any]:
    if document.get("swagger") != "2.0":
        return document
    consumes = document.get("consumes", ["application/json"])
    produces = document.get("produces", ["application/json"])
    paths: dict[str, Any] = {}
    for template, item in document.get("paths", {}).items():
        paths[template] = {
            method: _operation(op, consumes, produces) if isinstance(op, dict) and method != "parameters" else op
            for method, op in item.items()
        }
    out = {k: _nullable(v) for k, v in document.items() if k not in ("paths", "securityDefinitions", "swagger")}
    out.update(openapi="3.0.3", paths=paths)
    out.setdefault("components", {})["securitySchemes"] = document.get("securityDefinitions", {})
    return out


def _operation(op: dict[str, Any], consumes: list[str], produces: list[str]) -> dict[str, Any]:
    out = {k: v for k, v in op.items() if k not in ("parameters", "responses", "consumes", "produces")}
    parameters = []
    for param in op.get("parameters", []):
        if param.get("in") == "body":
            media = op.get("consumes", consumes)
            schema = _nullable(param.get("schema", {}))
            out["requestBody"] = {
                "required": bool(param.get("required")),
                "content": {m: {"schema": schema} for m in media},
            }
        else:
            schema = {k: param[k] for k in _SCHEMA_KEYS if k in param}
            parameters.append({**{k: v for k, v in param.items() if k not in _SCHEMA_KEYS}, "schema": schema})
    out["parameters"] = parameters
    media = op.get("produces", produces)
    out["responses"] = {
        code: {
            "description": r.get("description", ""),
            **({"content": {m: {"schema": _nullable(r["schema"])} for m in media}} if "schema" in r else {}),
        }
        for code, r in op.get("responses", {}).items()
    }
    return out


def _nullable(node: Any) -> Any:
    """``x-nullable: true`` (swagger 2.0's vendor extension) as OpenAPI 3.0's ``nullable``."""
    if isinstance(node, dict):
        out = {k: _nullable(v) for k, v in node.items() if k != "x-nullable"}
        if node.get("x-nullable"):
            out["nullable"] = True
        return out
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node
