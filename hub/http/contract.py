"""The OpenAPI document as an exact contract. FastAPI writes the paths; this adds what it cannot
know: the JSON Schemas in schemas/ (as components, referenced by the operations that take or return
them), the success and error bodies the hub really sends, a description of each operation with the
roles that may call it, and the security schemes (bearer key, X-API-Key, Open311's api_key).

tests/http/test_fuzz_contract.py holds the hub to it with schemathesis."""

from __future__ import annotations

import copy
import re
from typing import Any

from jsonschema import Draft202012Validator

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from hub.core import schemas
from hub.core.documents import MAX_INT
from hub.core.errors import FieldError
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
    "429": "The caller is over its rate limit; Retry-After says when to come back",
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


def _bound_integers(node: Any) -> None:
    """Give every integer without bounds the hub's own (hub.core.documents.MAX_INT), as enforced."""
    if isinstance(node, dict):
        kinds = node.get("type")
        if kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds):
            node.setdefault("maximum", MAX_INT)
            node.setdefault("minimum", -MAX_INT)
        for value in node.values():
            _bound_integers(value)
    elif isinstance(node, list):
        for value in node:
            _bound_integers(value)


class BodyRules:
    """Request bodies checked against the document's own schemas, so what it says is what is
    enforced. Bodies given by a schemas/ JSON Schema are left to their endpoint, which checks them
    with that same schema and its own error code."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.rules: list[tuple[re.Pattern[str], str, Draft202012Validator]] | None = None

    def _build(self) -> list[tuple[re.Pattern[str], str, Draft202012Validator]]:
        doc = self.app.openapi()
        rules = []
        for path, item in doc["paths"].items():
            for method, op in item.items():
                schema = ((op.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema")
                if not schema or set(schema) == {"$ref"}:
                    continue
                pattern = re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$")
                rules.append((pattern, method.upper(), Draft202012Validator({**schema, "components": doc["components"]})))
        return rules

    def __call__(self, method: str, path: str, doc: Any) -> list[FieldError]:
        if self.rules is None:
            self.rules = self._build()
        for pattern, verb, validator in self.rules:
            if verb == method and pattern.match(path):
                return sorted({FieldError(schemas.field_path(e), e.message) for e in validator.iter_errors(doc)},
                              key=lambda e: e.field)
        return []


def install(app: FastAPI) -> BodyRules:
    """Serve the completed document at /openapi.json (built once, on first request); returns the
    request body rules for the input guard."""
    built: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not built:
            doc = _document(app)
            _bound_integers(doc)
            built.update(doc)
        return built

    app.openapi = openapi  # type: ignore[method-assign]
    return BodyRules(app)

