"""The OpenAPI document as an exact contract. FastAPI writes the paths; this adds what it cannot
know: the JSON Schemas in schemas/ (as components, referenced by the operations that take or return
them), the success and error bodies the hub really sends, a description of each operation with the
roles that may call it, and the security schemes (bearer key, X-API-Key, Open311's api_key).

tests/http/test_fuzz_contract.py holds the hub to it with schemathesis."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from hub.core import schemas
from hub.http import contract_bodies as bodies

SCHEMA_PREFIX = schemas.BASE_URI
ERROR_TEXT = {
    "400": "The body cannot be read: not UTF-8, not JSON, or nested too deeply",
    "401": "No API key, or one that is unknown, rotated or revoked (or, for status callbacks, no valid signature)",
    "403": "The key's role or scope may not do this",
    "404": "Nothing with that id",
    "409": "Conflicts with the current state (the body says what is allowed)",
    "413": "The body is over this endpoint's size limit (refused while it is read)",
    "415": "The body is not in the content type this endpoint takes",
    "422": "Invalid input: each field named with the reason",
    "429": "The key is over its rate limit; Retry-After says when to come back",
}


def _component_schema(name: str) -> dict[str, Any]:
    """schemas/<name>.schema.json with its references rewritten to point inside the document."""
    doc = copy.deepcopy(schemas.schema(name))
    doc.pop("$schema", None)
    doc.pop("$id", None)

    def rewrite(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                target, _, pointer = ref.partition("#")
                target = target.removeprefix(SCHEMA_PREFIX).removesuffix(".schema.json") or name
                node["$ref"] = f"#/components/schemas/{target}{pointer}"
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    rewrite(doc)
    return doc


def _roles(route: RouteContext) -> tuple[bool, list[str]]:
    """(needs a key, the roles it names) from the route's access dependencies."""
    secured, roles = False, []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        name = getattr(dep.call, "__name__", "")
        if name.startswith("require_"):
            secured = True
            roles += [] if name == "require_any" else name.removeprefix("require_").split("_")
        elif name == "administer":
            secured = True
            roles += ["admin", "auditor (reads)"]
        stack.extend(dep.dependencies)
    return secured, sorted(set(roles))


def _error_responses(codes: set[str], open311: bool) -> dict[str, Any]:
    ref = "#/components/schemas/Open311Errors" if open311 else "#/components/schemas/Error"
    media = {"application/json": {"schema": {"$ref": ref}}}
    if open311:
        media["text/xml"] = {"schema": {"type": "string"}}
    out = {}
    for code in sorted(codes):
        out[code] = {"description": ERROR_TEXT[code], "content": media}
        if code == "429":
            out[code]["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}}
        if code == "401" and not open311:
            out[code]["headers"] = {"WWW-Authenticate": {"description": "Bearer challenge", "schema": {"type": "string"}}}
    return out


def _document(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = doc.setdefault("components", {})
    component_schemas = components.setdefault("schemas", {})
    for name in schemas.names():
        component_schemas[name] = _component_schema(name)
    component_schemas.update(bodies.COMPONENTS)
    for unused in ("HTTPValidationError", "ValidationError"):
        component_schemas.pop(unused, None)
    components.setdefault("securitySchemes", {})["open311ApiKey"] = {
        "type": "apiKey", "in": "query", "name": "api_key",
        "description": "Open311 api_key (a channel key), in the query string or the form body"}
    routes = {(m.lower(), r.path_format): r for r in iter_route_contexts(app.routes)
              if isinstance(r.original_route, APIRoute) for m in r.methods or ()}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            _complete(path, method, op, routes.get((method, path)))
    return doc


def _complete(path: str, method: str, op: dict[str, Any], route: RouteContext | None) -> None:
    """Fill in one operation: description, bodies, error answers, security."""
    open311 = path.startswith("/open311/")
    spec = bodies.OPERATIONS.get((method, path if not open311 else path.removesuffix(".{fmt}")), {})
    secured, roles = _roles(route) if route else (False, [])
    text = spec.get("description") or (route.description if route and route.description else "")
    who = (f"Needs an API key with role {', '.join(roles)}." if roles else
           "Needs an API key of any role." if secured else spec.get("who", "Needs no key."))
    op["description"] = f"{text}\n\n{who}".strip()
    if "request" in spec:
        op["requestBody"] = {"required": True, "content": spec["request"]}
    elif "requestBody" in op:
        op["requestBody"]["content"] = {"application/json": {"schema": {"type": "object"}}}
    responses = op.setdefault("responses", {})
    for code in [c for c in responses if c.startswith("2") or c == "422"]:
        responses.pop(code)
    for code, (description, schema) in spec.get("responses", {"200": ("OK", {"type": "object"})}).items():
        content = {"application/json": {"schema": schema}}
        if open311:
            content["text/xml"] = {"schema": {"type": "string"}}
        responses[code] = {"description": description, "content": content}
    codes = set(spec.get("errors", ()))
    if secured:
        codes |= {"401", "403", "429"}
    if "requestBody" in op:
        codes |= {"400", "413", "415", "422"}
    if op.get("parameters"):
        codes |= {"422"} if not open311 else {"400"}
    if "{" in path.replace("{fmt}", ""):
        codes.add("404")
    if open311:
        codes.add("404")  # an unknown format
    responses.update(_error_responses(codes, open311))
    if open311 and spec.get("secured"):
        op["security"] = [{"open311ApiKey": []}]


def install(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first request)."""
    built: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not built:
            built.update(_document(app))
        return built

    app.openapi = openapi  # type: ignore[method-assign]

