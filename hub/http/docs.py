"""Swagger UI at /docs, from assets vendored in hub/http/swagger_ui/ (no CDN: it works offline and
under the Content-Security-Policy, which allows only the hub's own scripts)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(__file__).resolve().parent / "swagger_ui"


def mount(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    def docs_page() -> FileResponse:
        return FileResponse(ASSETS / "docs.html", headers={"cache-control": "no-cache"})

    app.mount("/docs/static", StaticFiles(directory=ASSETS), name="docs-static")
