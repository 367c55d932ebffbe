"""The administrators' web console at /admin: one static page with small vanilla JavaScript that
calls the JSON API with the administrator's key. No build step; files in hub/http/console/."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "console"


def mount(app: FastAPI) -> None:
    @app.get("/admin", include_in_schema=False)
    def console_page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    @app.get("/admin/", include_in_schema=False)
    def console_slash() -> RedirectResponse:
        return RedirectResponse("/admin")

    app.mount("/admin/static", StaticFiles(directory=STATIC), name="console-static")
