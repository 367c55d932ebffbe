"""Telling the citizen and hearing back (`hub/aftercare/citizen.py`), called directly on the
in-process bus and SQLite: the event and the channel's notice, confirm / reopen / rate with their
rules and window, and the public view that shows public data only."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hub.aftercare import citizen
from hub.aftercare.citizen import ReopenWindowClosed, feedback, public_view, respond
from hub.aftercare.status import apply
from hub.core import schemas
from hub.core.errors import ComplaintNotFound, InvalidMessage
from hub.core.lifecycle import IllegalTransition
from hub.infra.store import deliveries, now, outbox
from hub.pipeline.notices import notices
from hub.settings.runtime import Hub
from tests.harness import delivered

WATER = {"channel": "jaki", "external_ref": "CZ-WATER-1", "title": "Air mati",
         "text": "Air PAM tidak mengalir sudah 3 hari, pipa bocor di depan rumah",
         "location": {"kecamatan": "Matraman", "kota": "Jakarta Timur"},
         "reporter": {"name": "Budi Santoso", "phone": "+62 812 1111 2222", "email": "budi@example.id"}}


@pytest.fixture
def hub(memory_hub: Hub) -> Hub:
    return memory_hub


def outbox_rows(hub: Hub, *message_ids: str) -> list[dict[str, Any]]:
    with hub.store.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox).where(outbox.c.message_id.in_(message_ids))
                            .order_by(outbox.c.id)).mappings().all()
    return [{**dict(r), "body": json.loads(r["body"])} for r in rows]


def resolved(hub: Hub, complaint: dict[str, Any] = WATER) -> str:
    cid, _ = delivered(hub, complaint)
    apply(hub, {"update_id": "u-ack", "complaint_id": cid, "destination": "pam-jaya", "status": "acknowledged",
                "internal_note": "tim B, jangan bilang warga"})
    apply(hub, {"update_id": "u-done", "complaint_id": cid, "destination": "pam-jaya", "status": "resolved",
                "resolution_note": "Pipa diganti.", "photo_url": "https://pam.example/p/1.jpg"})
    return cid


def state_of(hub: Hub, cid: str) -> str:
    return hub.store.complaint(cid)["state"]


# -- publish and enqueue_notice --------------------------------------------------------------------

def test_publish_enqueues_an_event_with_public_fields_only_and_a_notice_to_the_channel(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    with hub.store.begin() as conn:
        row = hub.store.complaint_row(conn, cid)
        ids = citizen.publish(hub, conn, row, "acknowledged", "in_progress",
                              {"note": "Diterima.", "internal_note": "tim B", "reason": "", "rating": None},
                              destination="pam-jaya")
    event_row, notice_row = outbox_rows(hub, *ids)
    event = event_row["body"]
    assert (event_row["exchange"], event_row["routing_key"]) == ("events", "complaint.acknowledged")
    assert schemas.validate("event", event) == event
    assert {k: event[k] for k in ("complaint_id", "channel", "external_ref", "kind", "state", "note")} == {
        "complaint_id": cid, "channel": "jaki", "external_ref": "CZ-WATER-1", "kind": "acknowledged",
        "state": "in_progress", "note": "Diterima."}
    assert "internal_note" not in event and "reason" not in event and "rating" not in event, \
        "only public fields, and only those with a value"
    assert (notice_row["exchange"], notice_row["routing_key"]) == ("delivery", "jaki-app")
    assert notice_row["body"]["kind"] == "event" and notice_row["body"]["event"] == event
    assert notice_row["headers"] == {"laporhub-complaint-id": cid}


def test_a_channel_with_no_channel_destination_gets_the_event_but_no_notice(hub: Hub) -> None:
    cid, _ = delivered(hub, {**WATER, "channel": "web", "external_ref": "CZ-WEB-1"})
    with hub.store.begin() as conn:
        ids = citizen.publish(hub, conn, hub.store.complaint_row(conn, cid), "acknowledged", "in_progress", {})
    assert "web" not in hub.config.policy.channels
    assert [i.split(":")[0] for i in ids] == ["event"]
    with hub.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(notices)).scalar_one() == 0


ESCALATION = {"delivery_id": "d-1", "destination": "pam-jaya", "kind": "acknowledge", "level": 1,
              "target_hours": 6, "used_hours": 6.5, "due_at": "2026-11-30T06:00:00+07:00"}


def test_enqueue_notice_records_a_pending_notice_and_its_message_under_the_id_given(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    with hub.store.begin() as conn:
        mid = citizen.enqueue_notice(hub, conn, cid, "crm-supervisor", "escalation", {"escalation": ESCALATION},
                                     notice_id="n-fixed")
    assert mid == "notice:n-fixed"
    [row] = outbox_rows(hub, mid)
    assert (row["exchange"], row["routing_key"]) == ("delivery", "crm-supervisor")
    assert row["body"]["notice_id"] == "n-fixed" and row["body"]["escalation"] == ESCALATION
    assert schemas.validate("notice", row["body"]) == row["body"]
    with hub.store.engine.connect() as conn:
        stored = conn.execute(sa.select(notices).where(notices.c.id == "n-fixed")).mappings().one()
    assert (stored["complaint_id"], stored["destination"], stored["kind"], stored["status"], stored["attempts"]) == (
        cid, "crm-supervisor", "escalation", "pending", 0)


def test_a_notice_that_breaks_its_schema_is_refused_before_anything_is_written(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    with pytest.raises(InvalidMessage) as invalid, hub.store.begin() as conn:
        citizen.enqueue_notice(hub, conn, cid, "jaki-app", "event", {"event": {"kind": "x"}})
    assert {e.field for e in invalid.value.errors} == {"event.kind", "event.type"}
    with hub.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(notices)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)
                            .where(outbox.c.message_id.like("notice:%"))).scalar_one() == 0


# -- respond: confirm, reopen, rate ----------------------------------------------------------------

def test_confirming_a_resolution_closes_the_complaint_and_tells_the_channel(hub: Hub) -> None:
    cid = resolved(hub)
    result = respond(hub, cid, {"action": "confirm"})
    assert result["state"] == "closed" and state_of(hub, cid) == "closed"
    kinds = [r["body"]["kind"] for r in outbox_rows(hub, *result["message_ids"]) if r["exchange"] == "events"]
    assert kinds == ["confirmed"]
    assert [e["type"] for e in hub.store.complaint(cid)["timeline"]][-1] == "confirmed"


def test_confirm_or_reopen_before_a_resolution_is_an_illegal_transition(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    for doc in ({"action": "confirm"}, {"action": "reopen", "reason": "belum beres"}, {"action": "rate", "rating": 3}):
        with pytest.raises(IllegalTransition) as refused:
            respond(hub, cid, doc)
        assert (refused.value.current, refused.value.requested, refused.value.allowed) == ("open", doc["action"], ())
        assert refused.value.subject == "complaint"
    with hub.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(feedback)).scalar_one() == 0


def test_reopening_within_the_window_sends_the_complaint_back_to_who_resolved_it(hub: Hub) -> None:
    cid = resolved(hub)
    result = respond(hub, cid, {"action": "reopen", "reason": "Pipa bocor lagi besoknya."})
    assert result["state"] == "open"
    [d] = hub.store.deliveries_of(cid)
    assert (d["destination"], d["state"], d["status"], d["acknowledged_at"]) == ("pam-jaya", "reopened", "pending", None)
    [again] = [r for r in outbox_rows(hub, *result["message_ids"]) if r["exchange"] == "delivery"
               and r["routing_key"] == "pam-jaya"]
    assert again["message_id"] == f"delivery:{d['id']}:2", "a new message id, so it is not taken for a repeat"
    assert again["body"]["handoff"] == {"kind": "reopened", "reason": "Pipa bocor lagi besoknya.", "from": "citizen",
                                        "send": 2}
    # the destination works on it again: the reopened delivery may be acknowledged
    assert apply(hub, {"update_id": "u-again", "complaint_id": cid, "destination": "pam-jaya",
                       "status": "acknowledged"}).state == "acknowledged"


def test_a_confirmed_complaint_is_closed_and_can_no_longer_be_reopened(hub: Hub) -> None:
    cid = resolved(hub)
    respond(hub, cid, {"action": "confirm"})
    with pytest.raises(IllegalTransition) as refused:
        respond(hub, cid, {"action": "reopen", "reason": "ternyata belum"})
    assert refused.value.current == "closed" and state_of(hub, cid) == "closed"


def test_after_a_reopen_the_next_resolution_waits_for_the_citizen_again(hub: Hub) -> None:
    cid = resolved(hub)
    respond(hub, cid, {"action": "reopen", "reason": "Pipa bocor lagi."})
    again = apply(hub, {"update_id": "u-done-2", "complaint_id": cid, "destination": "pam-jaya",
                        "status": "resolved", "resolution_note": "Pipa diganti semua."})
    assert again.complaint_state == "resolved", "the reopen is the latest word, not an earlier confirmation"
    assert respond(hub, cid, {"action": "confirm"})["state"] == "closed"


def test_reopening_after_the_window_is_refused_and_changes_nothing(hub: Hub) -> None:
    cid = resolved(hub)
    window = hub.config.policy.reopen_window
    assert window == timedelta(days=14)
    before = hub.store.complaint(cid)
    with pytest.raises(ReopenWindowClosed) as late:
        respond(hub, cid, {"action": "reopen", "reason": "masih bocor"}, now=now() + window + timedelta(minutes=1))
    assert "window is 14 days" in str(late.value)
    assert hub.store.complaint(cid) == before
    just_in = respond(hub, cid, {"action": "reopen", "reason": "masih bocor"},
                      now=now() + window - timedelta(minutes=1))
    assert just_in["state"] == "open"


def test_a_rating_is_taken_on_a_resolved_or_closed_complaint_and_does_not_change_its_state(hub: Hub) -> None:
    cid = resolved(hub)
    rated = respond(hub, cid, {"action": "rate", "rating": 4, "comment": "Cepat, terima kasih."})
    assert rated["state"] == "resolved"
    respond(hub, cid, {"action": "confirm"})
    assert respond(hub, cid, {"action": "rate", "rating": 5})["state"] == "closed"
    with hub.store.engine.connect() as conn:
        ratings = conn.execute(sa.select(feedback.c.action, feedback.c.rating, feedback.c.text)
                               .where(feedback.c.complaint_id == cid).order_by(feedback.c.id)).all()
    assert [tuple(r) for r in ratings] == [("rate", 4, "Cepat, terima kasih."), ("confirm", None, None),
                                           ("rate", 5, None)]
    [told] = [r["body"] for r in outbox_rows(hub, *rated["message_ids"]) if r["exchange"] == "events"]
    assert (told["kind"], told["rating"]) == ("rated", 4)


@pytest.mark.parametrize("doc, field", [
    ({"action": "reopen"}, "reason"),
    ({"action": "reopen", "reason": "x"}, "reason"),
    ({"action": "rate"}, "rating"),
    ({"action": "rate", "rating": 6}, "rating"),
    ({"action": "like"}, "action"),
])
def test_invalid_feedback_is_refused_naming_the_field(hub: Hub, doc: dict[str, Any], field: str) -> None:
    cid = resolved(hub)
    with pytest.raises(InvalidMessage) as invalid:
        respond(hub, cid, doc)
    assert [e.field for e in invalid.value.errors] == [field]
    assert state_of(hub, cid) == "resolved"


def test_feedback_on_an_unknown_complaint_is_not_found(hub: Hub) -> None:
    with pytest.raises(ComplaintNotFound):
        respond(hub, "c-nothere", {"action": "confirm"})


# -- the public view -------------------------------------------------------------------------------

def test_the_public_view_shows_public_data_only(hub: Hub) -> None:
    cid = resolved(hub)
    full = hub.store.complaint(cid)
    view = public_view(hub, full, full["state"])
    text = json.dumps(view)
    for private in ("Budi", "+62 812", "budi@example.id", "tim B", "evidence", "attempt",
                    "rule_id", "delivery_id", "pam-jaya"):
        assert private not in text, private
    assert view["complaint"] == {k: WATER[k] for k in ("title", "text", "location")}
    assert view["state"] == "resolved" and view["citizen_may"] == ["confirm", "reopen"]
    pam = hub.config.registry.get("pam-jaya").name
    assert view["handled_by"] == [{"name": pam, "state": "resolved"}]
    assert [t["type"] for t in view["timeline"]] == ["received", "sent", "acknowledged", "resolved"]
    assert view["timeline"][1]["to"] == [pam]
    assert {k: view["timeline"][3][k] for k in ("by", "resolution_note", "photo_url")} == {
        "by": pam, "resolution_note": "Pipa diganti.", "photo_url": "https://pam.example/p/1.jpg"}
    assert view["category"] == "water" and view["city"] == full["classification"]["area"]["city"]


def test_the_public_view_hides_deliveries_to_the_channel_and_escalation_desks(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    with hub.store.begin() as conn:
        for extra in ("jaki-app", "crm-supervisor"):
            dest = hub.config.registry.get(extra)
            hub.store.insert_delivery(conn, cid, dest.id, dest.adapter, "escalation", "test")
        conn.execute(deliveries.update().where(deliveries.c.complaint_id == cid).values(status="delivered"))
    full = hub.store.complaint(cid)
    assert len(full["deliveries"]) == 3
    view = public_view(hub, full, full["state"])
    assert [h["name"] for h in view["handled_by"]] == [hub.config.registry.get("pam-jaya").name]
    assert view["citizen_may"] == []


def test_the_public_view_of_a_rerouted_complaint_names_who_passed_it_on_and_why(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    apply(hub, {"update_id": "r-1", "complaint_id": cid, "destination": "pam-jaya", "status": "rejected",
                "reason": "Saluran air hujan.", "suggested_destination": "sudin-sda-jakarta-timur",
                "internal_note": "bukan urusan kita"})
    full = hub.store.complaint(cid)
    view = public_view(hub, full, full["state"])
    reg = hub.config.registry
    assert view["timeline"][-1] == {"type": "rerouted", "at": view["timeline"][-1]["at"],
                                    "from": reg.get("pam-jaya").name,
                                    "to": [reg.get("sudin-sda-jakarta-timur").name], "reason": "Saluran air hujan."}
    assert "bukan urusan kita" not in json.dumps(view) and "why" not in json.dumps(view)
