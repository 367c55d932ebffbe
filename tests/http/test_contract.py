"""The OpenAPI document is an exact contract: every operation described, its request and response
bodies given by schemas (the JSON Schemas in schemas/ where they exist), every error answer
documented with the body the hub really sends, security schemes a client can authorise with, every
$ref resolving inside the document, and Swagger UI served from the hub itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from hub.cli.processes import ApiServer
from hub.http.app import create_app
from tests.browser import ARGS, CHROMIUM, require_browser
from tests.harness import make_hub

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path_factory.mktemp('contract') / 'c.db'}",
                   "contract-test")
    with TestClient(create_app(hub, relay=False)) as c:
        yield c
    hub.store.engine.dispose()


@pytest.fixture(scope="module")
def doc(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                yield path, method, op


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} points outside the document"
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


def test_every_ref_resolves_inside_the_document(doc: dict[str, Any]) -> None:
    broken = []
    for ref in set(refs(doc)):
        try:
            resolve(doc, ref)
        except (AssertionError, KeyError) as exc:
            broken.append(f"{ref}: {exc}")
    assert not broken, broken


def test_every_operation_has_a_summary_and_a_description(doc: dict[str, Any]) -> None:
    missing = [f"{m.upper()} {p}" for p, m, op in operations(doc)
               if not op.get("summary") or len(op.get("description") or "") < 20]
    assert not missing, missing


def _schema_of(doc: dict[str, Any], content: dict[str, Any]) -> Any:
    for media in ("application/json", "text/xml"):
        if media in content:
            schema = content[media].get("schema") or {}
            return resolve(doc, schema["$ref"]) if "$ref" in schema else schema
    return None


def test_every_success_answer_has_a_schema(doc: dict[str, Any]) -> None:
    empty = []
    for path, method, op in operations(doc):
        for code, resp in op["responses"].items():
            if code.startswith("2") and code != "204":
                schema = _schema_of(doc, resp.get("content") or {})
                if not schema:
                    empty.append(f"{method.upper()} {path} {code}")
    assert not empty, empty


def test_every_request_body_has_a_schema(doc: dict[str, Any]) -> None:
    empty, bodiless = [], []
    for path, method, op in operations(doc):
        content = (op.get("requestBody") or {}).get("content") or {}
        if content and not all(c.get("schema") for c in content.values()):
            empty.append(f"{method.upper()} {path}")
        if method == "put" and not content:
            bodiless.append(f"{method.upper()} {path}")
    assert not empty and not bodiless, (empty, bodiless)
    takes_body = [f"{m.upper()} {p}" for p, m, op in operations(doc) if "requestBody" in op]
    assert len(takes_body) >= 18


def test_the_json_schemas_in_schemas_are_what_the_operations_reference(doc: dict[str, Any]) -> None:
    def body_ref(path: str, method: str) -> str:
        return doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]

    assert body_ref("/v1/complaints", "post") == "#/components/schemas/complaint"
    assert body_ref("/v1/complaints/{complaint_id}/feedback", "post") == "#/components/schemas/feedback"
    assert body_ref("/v1/complaints/{complaint_id}/status", "post") == "#/components/schemas/status-update"
    complaint = resolve(doc, "#/components/schemas/complaint")
    assert complaint["properties"]["location"], "the schema itself, not a copy by FastAPI"


def test_errors_are_documented_with_the_body_the_hub_sends(doc: dict[str, Any]) -> None:
    error = resolve(doc, "#/components/schemas/Error")
    assert set(error["required"]) == {"error", "message", "errors"}
    assert resolve(doc, "#/components/schemas/Open311Errors")["type"] == "array"
    missing = []
    for path, method, op in operations(doc):
        codes = set(op["responses"])
        # Hub keys are rate limited; servicerequestupdates' api_key is the destination system's own.
        expected = {"429"} if op.get("security") and "servicerequestupdates" not in path else set()
        if op.get("security") and not path.startswith("/open311"):
            expected |= {"401", "403"}
        if "requestBody" in op:
            expected |= {"413", "415", "422"}
        if "{" in path:
            expected |= {"404"}
        if not expected <= codes:
            missing.append(f"{method.upper()} {path}: {sorted(expected - codes)}")
        for code in codes - {"200", "201", "202", "204"}:
            schema = op["responses"][code]["content"]["application/json"]["schema"]["$ref"]
            assert schema.endswith("/Open311Errors" if path.startswith("/open311") else "/Error"), (path, code)
        assert "422" not in codes or "HTTPValidationError" not in str(op["responses"]["422"])
    assert not missing, missing


def test_security_schemes_cover_the_bearer_key_and_the_open311_api_key(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    kinds = {(s["type"], s.get("scheme") or s.get("in")) for s in schemes.values()}
    assert ("http", "bearer") in kinds and ("apiKey", "query") in kinds
    ops = {f"{m.upper()} {p}": op for p, m, op in operations(doc)}
    assert ops["POST /v1/complaints"]["security"]
    assert ops["POST /open311/v2/requests.{fmt}"]["security"]
    assert "security" not in ops["GET /healthz"] or ops["GET /healthz"]["security"] == []


def test_swagger_ui_is_served_from_the_hub_itself(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for asset, kind in (("/docs/static/swagger-ui-bundle.js", "javascript"), ("/docs/static/swagger-ui.css", "css"),
                        ("/docs/static/docs.js", "javascript")):
        resp = client.get(asset)
        assert resp.status_code == 200 and kind in resp.headers["content-type"], asset


@pytest.mark.browser
def test_swagger_ui_renders_offline_under_the_content_security_policy(tmp_path: Path) -> None:
    sync_playwright = require_browser()
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'docs.db'}", "docs-test")
    server = ApiServer(hub, port=0).start()
    problems: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
            page.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url
                       else (problems.append(f"outside: {route.request.url}"), route.abort()))
            page.goto(f"http://127.0.0.1:{server.port}/docs")
            page.wait_for_selector(".opblock-summary", timeout=20000)
            page.locator("button.authorize").first.wait_for(timeout=5000)
            shown = page.locator(".opblock-summary-path").count()
            browser.close()
    finally:
        server.stop()
        hub.store.engine.dispose()
    assert shown >= 30
    assert not problems, problems
