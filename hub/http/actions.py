"""The small page an e-mailed action link opens (/act/{token}): no account, no JavaScript. GET
shows the complaint (identifiers masked) and the action's form; POST applies it. A link that was
changed, has expired, was used or was superseded gets a page that says so, and why."""

from __future__ import annotations

import html
from typing import Any, Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from hub.aftercare import actions, status
from hub.core.actions import LinkRefused
from hub.core.errors import ComplaintNotFound, FieldError, InvalidMessage
from hub.core.lifecycle import IllegalTransition
from hub.core.privacy import mask_text
from hub.settings.runtime import Hub

REFUSED_STATUS = {"tampered": 403, "malformed": 400, "expired": 410, "used": 410, "superseded": 410}

WORDS = {
    "id": {"title": "Tindak lanjut aduan", "acknowledge": "Terima aduan", "progress": "Laporkan perkembangan",
           "resolve": "Tandai selesai", "not_ours": "Bukan wewenang kami", "note": "Catatan untuk warga",
           "note_resolve": "Apa yang sudah dikerjakan (dibaca warga)", "photo": "Tautan foto (opsional, http/https)",
           "reason": "Alasan", "where": "Seharusnya ke (opsional, mis. pam-jaya)", "submit": "Kirim",
           "done": "Tercatat. Status sekarang: {state}.", "next": "Langkah berikutnya:",
           "refused": "Tautan tidak dapat dipakai", "conflict": "Tindakan ini tidak dapat dilakukan sekarang",
           "where_label": "Lokasi", "map": "peta", "rerouted": "Aduan diteruskan ke: {to}."},
    "en": {"title": "Act on a complaint", "acknowledge": "Acknowledge", "progress": "Report progress",
           "resolve": "Mark resolved", "not_ours": "Not ours", "note": "Note to the citizen",
           "note_resolve": "What was done (the citizen reads it)", "photo": "Photo link (optional, http/https)",
           "reason": "Reason", "where": "Where it belongs (optional, e.g. pam-jaya)", "submit": "Send",
           "done": "Recorded. The state is now: {state}.", "next": "Next steps:",
           "refused": "This link cannot be used", "conflict": "This cannot be done now",
           "where_label": "Location", "map": "map", "rerouted": "The complaint went on to: {to}."},
}
e = html.escape


def _page(title: str, body: str, status_code: int = 200, lang: str = "id") -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{e(title)} - LaporHub</title>"
        "<meta name='referrer' content='no-referrer'><meta name='robots' content='noindex'>"
        "<link rel='stylesheet' href='/admin/static/console.css'><link rel='stylesheet' href='/admin/static/portal.css'></head><body><header><span class='brand'>"
        f"LaporHub</span></header><main><section class='card'>{body}</section></main></body></html>",
        status_code=status_code, headers={"cache-control": "no-store", "x-frame-options": "DENY"})


def _refused(exc: LinkRefused, lang: str = "id") -> HTMLResponse:
    w = WORDS[lang]
    return _page(w["refused"], f"<h1>{e(w['refused'])}</h1><div id='refused' class='notice bad' "
                 f"data-why='{e(exc.why)}'>{e(str(exc))}</div>", REFUSED_STATUS.get(exc.why, 400), lang)


def _summary(opened: actions.Opened) -> str:
    w = WORDS[opened.language]
    c = opened.complaint.get("complaint") or {}
    loc = c.get("location") or {}
    place = ", ".join(str(x) for x in (loc.get("address"), loc.get("kelurahan"), loc.get("kecamatan"),
                                       loc.get("kota")) if x)
    where = ""
    if place or "latitude" in loc:
        link = (f" (<a href='https://www.openstreetmap.org/?mlat={loc['latitude']}&amp;mlon={loc['longitude']}'>"
                f"{w['map']}</a>)" if "latitude" in loc and "longitude" in loc else "")
        where = f"<p><strong>{e(w['where_label'])}:</strong> {e(mask_text(place))}{link}</p>"
    return (f"<p class='muted'>{e(opened.destination_name)} &middot; {e(opened.claim.complaint_id)} &middot; "
            f"<span class='badge' id='delivery-state'>{e(opened.delivery['state'])}</span></p>"
            f"<h2>{e(mask_text(c.get('title') or ''))}</h2><p>{e(mask_text(c.get('text') or ''))}</p>{where}")


def _form(opened: actions.Opened, token: str, errors: list[FieldError] | None = None,
          values: Mapping[str, Any] | None = None) -> str:
    w = WORDS[opened.language]
    a = opened.claim.action
    v = values or {}

    def field(name: str, label: str, area: bool = False, required: bool = False) -> str:
        value = e(str(v.get(name) or ""))
        control = (f"<textarea id='{name}' name='{name}'{' required' if required else ''}>{value}</textarea>"
                   if area else f"<input id='{name}' name='{name}' value='{value}'>")
        return f"<label for='{name}'>{e(label)}</label>{control}"

    fields = ""
    if a == "progress":
        fields = field("note", w["note"], True, True) + field("photo_url", w["photo"])
    elif a == "resolve":
        fields = field("note", w["note_resolve"], True, True) + field("photo_url", w["photo"])
    elif a == "not_ours":
        fields = field("reason", w["reason"], True, True) + field("suggested_destination", w["where"])
    else:
        fields = field("note", w["note"], True)
    problems = "".join(f"<li>{e(x.field)}: {e(x.reason)}</li>" for x in errors or [])
    return (f"<form method='post' action='/act/{e(token)}' id='action-form'>"
            + (f"<ul class='errors' id='form-errors'>{problems}</ul>" if problems else "")
            + f"{fields}<div class='row'><button type='submit' id='submit'>{e(w[a])}</button></div></form>")


def routes() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/act/{token}")
    def show(token: str, request: Request) -> HTMLResponse:
        hub: Hub = request.app.state.hub
        try:
            opened = actions.open_link(hub, token)
        except LinkRefused as exc:
            return _refused(exc)
        w = WORDS[opened.language]
        return _page(w[opened.claim.action], f"<h1>{e(w[opened.claim.action])}</h1>{_summary(opened)}"
                     f"{_form(opened, token)}", lang=opened.language)

    @router.post("/act/{token}")
    async def act(token: str, request: Request) -> HTMLResponse:
        # Size (32 KiB) and content type (a form) are checked by InputGuard (hub/http/guard.py).
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        response = await run_in_threadpool(_act, request.app.state.hub, token, form)
        relayer = getattr(request.app.state, "relayer", None)
        if relayer:
            relayer.wake.set()
        return response

    return router


def _act(hub: Hub, token: str, form: dict[str, Any]) -> HTMLResponse:
    try:
        opened = actions.open_link(hub, token)
    except LinkRefused as exc:
        return _refused(exc)
    w = WORDS[opened.language]
    try:
        result = actions.perform(hub, token, form)
    except LinkRefused as exc:
        return _refused(exc, opened.language)
    except InvalidMessage as exc:
        return _page(w[opened.claim.action], f"<h1>{e(w[opened.claim.action])}</h1>{_summary(opened)}"
                     f"{_form(opened, token, exc.errors, form)}", 422, opened.language)
    except (IllegalTransition, status.NotDelivered, ComplaintNotFound) as exc:
        return _page(w["conflict"], f"<h1>{e(w['conflict'])}</h1>{_summary(opened)}<div id='refused' "
                     f"class='notice bad' data-why='conflict'>{e(str(exc))}</div>",
                     409 if isinstance(exc, IllegalTransition) else 403, opened.language)
    nexts = actions.next_links(hub, opened.claim, result.state)
    moved = (f"<p id='rerouted'>{e(w['rerouted'].format(to=', '.join(result.rerouted_to)))}</p>"
             if result.rerouted_to else "")
    links = "".join(f"<a class='button' href='{e(u)}' data-action='{a}'>{e(w[a])}</a> " for a, u in nexts.items())
    return _page(w["title"], f"<h1>{e(w['title'])}</h1><div id='done' class='notice' data-state='{e(result.state)}'>"
                 f"{e(w['done'].format(state=result.state))}</div>{moved}"
                 + (f"<p>{e(w['next'])}</p><p class='row'>{links}</p>" if links else ""), lang=opened.language)
