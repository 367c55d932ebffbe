"""Status updates from destinations (`hub/aftercare/status.py`), called directly on the in-process
bus and SQLite: who may report, the lifecycle they move, duplicates, re-routing on a rejection or
transfer, and the status consumer dead-lettering what can never apply, with the reason."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from kombu import Connection

from hub.aftercare import status, transfers
from hub.aftercare.handoffs import hops
from hub.aftercare.status import NotDelivered, StatusConsumer, apply, status_updates
from hub.core.errors import ComplaintNotFound, InvalidMessage
from hub.core.lifecycle import IllegalTransition
from hub.infra.bus import Bus
from hub.infra.store import complaints, deliveries, events, outbox
from hub.pipeline.deadletter import dead_letters
from hub.settings.runtime import Hub
from tests.harness import delivered, mark_delivered

WATER = {"channel": "jaki", "external_ref": "ST-WATER-1",
         "text": "Air PAM tidak mengalir sudah 3 hari, pipa bocor di depan rumah",
         "location": {"kecamatan": "Matraman", "kota": "Jakarta Timur"},
         "reporter": {"name": "Budi", "phone": "+62 812 1111 2222"}}
BUS = {"channel": "jaki", "external_ref": "ST-BUS-1",
       "text": "Bus Transjakarta koridor 6 ngetem lama sekali di halte Kuningan, sopir ugal-ugalan",
       "location": {"kecamatan": "Setiabudi", "kota": "Jakarta Selatan"}}


@pytest.fixture
def hub(memory_hub: Hub) -> Hub:
    return memory_hub


def update(cid: str, destination: str, status_: str, update_id: str = "u-1", **more: Any) -> dict[str, Any]:
    return {"update_id": update_id, "complaint_id": cid, "destination": destination, "status": status_, **more}


def count(hub: Hub, table: sa.Table, *where: Any) -> int:
    with hub.store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def outbox_body(hub: Hub, message_id: str) -> dict[str, Any]:
    with hub.store.engine.connect() as conn:
        row = conn.execute(sa.select(outbox).where(outbox.c.message_id == message_id)).mappings().one()
    return {"exchange": row["exchange"], "routing_key": row["routing_key"], "body": json.loads(row["body"]),
            "published": row["published_at"] is not None}


def delivery(hub: Hub, cid: str, destination: str) -> dict[str, Any]:
    [found] = [d for d in hub.store.deliveries_of(cid) if d["destination"] == destination]
    return found


def snapshot(hub: Hub, cid: str) -> tuple[Any, ...]:
    """Everything an update may change, to show a refused one changed nothing."""
    view = hub.store.complaint(cid)
    return (view["state"], view["deliveries"], view["timeline"], count(hub, status_updates),
            count(hub, outbox), count(hub, hops))


# -- who may report -------------------------------------------------------------------------------

def test_a_destination_the_complaint_was_delivered_to_moves_its_delivery_and_the_complaint(hub: Hub) -> None:
    cid, ids = delivered(hub, WATER)
    result = apply(hub, update(cid, "pam-jaya", "acknowledged", note="Diterima, petugas dijadwalkan.",
                               internal_note="assign to team B"))
    assert (result.delivery_id, result.state, result.complaint_state, result.duplicate) == (
        ids["pam-jaya"], "acknowledged", "in_progress", False)
    d = delivery(hub, cid, "pam-jaya")
    assert d["state"] == "acknowledged" and d["acknowledged_at"] and d["state_at"]
    [changed] = [e for e in hub.store.complaint(cid)["timeline"] if e["type"] == "status_changed"]
    assert (changed["from"], changed["to"], changed["actor"], changed["update_id"]) == (
        "sent", "acknowledged", "pam-jaya", "u-1")
    assert changed["internal_note"] == "assign to team B", "the internal timeline keeps the agency note"
    assert count(hub, status_updates, status_updates.c.complaint_id == cid) == 1


def test_the_citizen_is_told_through_an_event_and_a_notice_to_the_channel_without_internal_notes(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    result = apply(hub, update(cid, "pam-jaya", "acknowledged", note="Diterima.", internal_note="team B"))
    event_id, notice_id = result.message_ids
    event = outbox_body(hub, event_id)
    notice = outbox_body(hub, notice_id)
    assert (event["exchange"], event["routing_key"]) == ("events", "complaint.acknowledged")
    assert event["body"]["note"] == "Diterima." and event["body"]["state"] == "in_progress"
    assert event["body"]["destination"] == {"id": "pam-jaya", "name": hub.config.registry.get("pam-jaya").name}
    assert (notice["exchange"], notice["routing_key"]) == ("delivery", "jaki-app")
    assert notice["body"]["event"] == event["body"]
    for message in (event, notice):
        assert "team B" not in json.dumps(message) and "+62 812" not in json.dumps(message)


def test_a_destination_that_was_not_delivered_the_complaint_is_refused_and_nothing_changes(hub: Hub) -> None:
    cid, ids = delivered(hub, WATER)
    before = snapshot(hub, cid)
    with pytest.raises(NotDelivered) as elsewhere:
        apply(hub, update(cid, "pln-uid-jakarta-raya", "acknowledged"))
    with pytest.raises(NotDelivered):
        apply(hub, update(cid, "pam-jaya", "acknowledged", delivery_id="d-someone-elses"))
    assert elsewhere.value.destination == "pln-uid-jakarta-raya"
    assert "was not delivered to 'pln-uid-jakarta-raya'" in str(elsewhere.value)
    assert snapshot(hub, cid) == before
    assert apply(hub, update(cid, "pam-jaya", "acknowledged", delivery_id=ids["pam-jaya"])).state == "acknowledged"


def test_a_delivery_still_pending_cannot_be_reported_on(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    with hub.store.begin() as conn:
        conn.execute(deliveries.update().where(deliveries.c.complaint_id == cid)
                     .values(status="pending", delivered_at=None))
    with pytest.raises(NotDelivered):
        apply(hub, update(cid, "pam-jaya", "acknowledged"))


def test_an_unknown_complaint_or_an_invalid_update_is_refused_naming_what_is_wrong(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    with pytest.raises(ComplaintNotFound):
        apply(hub, update("c-nothere", "pam-jaya", "acknowledged"))
    with pytest.raises(InvalidMessage) as unknown:
        apply(hub, update(cid, "pam-jaya", "fixed"))
    with pytest.raises(InvalidMessage) as bare:
        apply(hub, update(cid, "pam-jaya", "resolved"))
    assert [e.field for e in unknown.value.errors] == ["status"]
    assert [e.as_dict() for e in bare.value.errors] == [{"field": "resolution_note", "reason": "is required"}]
    assert count(hub, status_updates) == 0


# -- the lifecycle --------------------------------------------------------------------------------

def test_a_move_the_state_does_not_allow_is_an_illegal_transition_naming_what_is_allowed(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    apply(hub, update(cid, "pam-jaya", "acknowledged", "u-1"))
    before = snapshot(hub, cid)
    with pytest.raises(IllegalTransition) as again:
        apply(hub, update(cid, "pam-jaya", "acknowledged", "u-2"))
    assert (again.value.current, again.value.requested) == ("acknowledged", "acknowledged")
    assert "in_progress" in again.value.allowed and "acknowledged" not in again.value.allowed
    assert snapshot(hub, cid) == before, "the refused update is not recorded, so it may be sent again"


def test_a_delivery_goes_through_progress_and_questions_to_resolved_and_then_only_the_citizen_moves_it(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    steps = [("in_progress", {"note": "Tim menuju lokasi."}, "in_progress"),
             ("in_progress", {"note": "Pipa sedang diganti."}, "in_progress"),
             ("needs_info", {"note": "Nomor rumah?"}, "needs_info"),
             ("in_progress", {}, "in_progress"),
             ("resolved", {"resolution_note": "Pipa diganti."}, "resolved")]
    seen = [apply(hub, update(cid, "pam-jaya", s, f"u-{i}", **extra)) for i, (s, extra, _) in enumerate(steps)]
    assert [(r.state, r.complaint_state) for r in seen] == [(s, c) for s, _, c in steps]
    assert delivery(hub, cid, "pam-jaya")["acknowledged_at"], "progress counts as acknowledging (SLA)"
    with pytest.raises(IllegalTransition) as after:
        apply(hub, update(cid, "pam-jaya", "in_progress", "u-late"))
    assert after.value.allowed == ("reopened",)


def test_a_complaint_is_resolved_only_once_every_delivery_is_done(hub: Hub) -> None:
    cid, _ = delivered(hub, BUS)
    first = apply(hub, update(cid, "transjakarta", "resolved", resolution_note="Sopir diberi sanksi."))
    second = apply(hub, update(cid, "sudin-perhubungan-jakarta-selatan", "resolved",
                               resolution_note="Halte ditertibkan."))
    assert (first.complaint_state, second.complaint_state) == ("open", "resolved")
    with hub.store.engine.connect() as conn:
        assert conn.execute(sa.select(complaints.c.state).where(complaints.c.id == cid)).scalar_one() == "resolved"


# -- duplicates -----------------------------------------------------------------------------------

def test_the_same_update_id_from_the_same_destination_changes_nothing_the_second_time(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    first = apply(hub, update(cid, "pam-jaya", "acknowledged", "pam-77"))
    before = snapshot(hub, cid)
    again = apply(hub, update(cid, "pam-jaya", "in_progress", "pam-77", note="different body, same id"))
    assert not first.duplicate and again.duplicate
    assert (again.state, again.complaint_state, again.message_ids) == ("acknowledged", "in_progress", [])
    assert snapshot(hub, cid) == before


def test_an_update_id_is_the_senders_own_so_two_destinations_may_use_the_same_one(hub: Hub) -> None:
    cid, _ = delivered(hub, BUS)
    a = apply(hub, update(cid, "transjakarta", "acknowledged", "1"))
    b = apply(hub, update(cid, "sudin-perhubungan-jakarta-selatan", "acknowledged", "1"))
    assert not a.duplicate and not b.duplicate
    assert count(hub, status_updates, status_updates.c.complaint_id == cid) == 2


def test_a_webhook_id_is_remembered_per_destination_once_applied(hub: Hub) -> None:
    assert not status.webhook_id_seen(hub, "pam-jaya", "msg_1")
    status.remember_webhook_id(hub, "pam-jaya", "msg_1")
    status.remember_webhook_id(hub, "pam-jaya", "msg_1")  # a race: the second is harmless
    assert status.webhook_id_seen(hub, "pam-jaya", "msg_1")
    assert not status.webhook_id_seen(hub, "transjakarta", "msg_1")


# -- re-routing -----------------------------------------------------------------------------------

def test_a_rejection_goes_to_the_suggested_destination_with_the_hand_off_and_the_citizen_is_told(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    result = apply(hub, update(cid, "pam-jaya", "rejected", reason="Saluran air hujan, bukan pipa PAM.",
                               suggested_destination="sudin-sda-jakarta-timur"))
    assert (result.state, result.rerouted_to, result.supervisor) == ("rejected", ["sudin-sda-jakarta-timur"], False)
    new = delivery(hub, cid, "sudin-sda-jakarta-timur")
    assert (new["status"], new["state"], new["rule_id"]) == ("pending", "sent", "handoff:pam-jaya")
    sent = outbox_body(hub, f"delivery:{new['id']}")
    assert (sent["exchange"], sent["routing_key"]) == ("delivery", "sudin-sda-jakarta-timur")
    assert sent["body"]["handoff"] == {"hop": 1, "from": "pam-jaya", "kind": "rejected",
                                       "reason": "Saluran air hujan, bukan pipa PAM.", "supervisor": False,
                                       "refused_by": ["pam-jaya"]}
    assert f"delivery:{new['id']}" in result.message_ids
    told = [outbox_body(hub, m)["body"] for m in result.message_ids if m.startswith("event:")]
    assert [e["kind"] for e in told] == ["rejected", "rerouted"]
    assert told[1]["to"] == [hub.config.registry.get("sudin-sda-jakarta-timur").name]
    with hub.store.engine.connect() as conn:
        [hop] = conn.execute(sa.select(hops).where(hops.c.complaint_id == cid)).mappings().all()
    assert (hop["from_destination"], hop["to_destinations"], hop["kind"]) == (
        "pam-jaya", ["sudin-sda-jakarta-timur"], "rejected")


def test_a_transfer_goes_to_the_destination_named_when_the_allow_list_permits(hub: Hub) -> None:
    with hub.store.engine.begin() as conn:
        transfers.replace(conn, "water", ["dinas-sda"], actor="admin", reason="SDA takes drainage")
    cid, _ = delivered(hub, WATER)
    result = apply(hub, update(cid, "pam-jaya", "transferred", transfer_to="dinas-sda", reason="Kewenangan SDA"))
    assert result.rerouted_to == ["dinas-sda"]
    body = outbox_body(hub, f"delivery:{delivery(hub, cid, 'dinas-sda')['id']}")["body"]
    assert body["handoff"]["kind"] == "transferred" and body["handoff"]["from"] == "pam-jaya"
    with pytest.raises(IllegalTransition):
        apply(hub, update(cid, "pam-jaya", "acknowledged", "u-after"))


def test_a_transfer_the_rules_and_allow_list_do_not_permit_goes_to_triage(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    result = apply(hub, update(cid, "pam-jaya", "transferred", transfer_to="dinas-sda", reason="Kewenangan SDA"))
    assert result.rerouted_to == [hub.config.ruleset.triage]


def test_a_rejection_naming_an_unknown_destination_follows_the_rules_and_says_why(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    result = apply(hub, update(cid, "pam-jaya", "rejected", reason="Bukan kami", suggested_destination="nowhere"))
    assert result.rerouted_to and "pam-jaya" not in result.rerouted_to and "nowhere" not in result.rerouted_to
    [rerouted] = [e for e in hub.store.complaint(cid)["timeline"] if e["type"] == "rerouted"]
    assert "nowhere is not a known destination" in rerouted["why"]


def test_a_complaint_never_returns_to_a_destination_that_refused_it(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    apply(hub, update(cid, "pam-jaya", "rejected", reason="Bukan pipa PAM",
                      suggested_destination="sudin-sda-jakarta-timur"))
    mark_delivered(hub, cid, "sudin-sda-jakarta-timur")
    back = apply(hub, update(cid, "sudin-sda-jakarta-timur", "rejected", reason="Itu pipa PAM",
                             suggested_destination="pam-jaya"))
    assert "pam-jaya" not in back.rerouted_to
    assert delivery(hub, cid, "pam-jaya")["state"] == "rejected"
    [_, second] = [e for e in hub.store.complaint(cid)["timeline"] if e["type"] == "rerouted"]
    assert "pam-jaya already refused it" in second["why"]


def test_after_the_hop_limit_a_supervisor_decides_at_triage(hub: Hub) -> None:
    cid, _ = delivered(hub, WATER)
    chain = [("pam-jaya", "sudin-sda-jakarta-timur"), ("sudin-sda-jakarta-timur", "dinas-sda"),
             ("dinas-sda", "dinas-bina-marga")]
    results = []
    for sender, named in chain:
        results.append(apply(hub, update(cid, sender, "rejected", f"rej-{sender}", reason="bukan kami",
                                         suggested_destination=named)))
        if not results[-1].supervisor:
            mark_delivered(hub, cid, named)
    assert hub.config.policy.hop_limit == 3
    assert [r.supervisor for r in results] == [False, False, True]
    assert results[-1].rerouted_to == [hub.config.ruleset.triage]
    with hub.store.engine.connect() as conn:
        assert conn.execute(sa.select(complaints.c.supervisor).where(complaints.c.id == cid)).scalar_one()
    assert outbox_body(hub, f"delivery:{delivery(hub, cid, hub.config.ruleset.triage)['id']}")["body"][
        "handoff"]["supervisor"] is True


# -- the status consumer --------------------------------------------------------------------------

@pytest.fixture
def consumer(hub: Hub) -> Iterator[StatusConsumer]:
    bus: Bus = hub.bus()
    bus.declare(hub.topology.core_queues())
    yield StatusConsumer(hub, bus)
    bus.close()


def dead_queue(hub: Hub) -> list[dict[str, Any]]:
    """What reached the dead-letter queue on the in-process bus."""
    found = []
    with Connection(hub.settings.broker_url) as conn:
        q = conn.SimpleQueue(hub.topology.dead)
        while True:
            try:
                m = q.get(block=False)
            except q.Empty:
                break
            found.append(json.loads(m.body))
            m.ack()
        q.close()
    return found


def dead_letter_rows(hub: Hub) -> list[dict[str, Any]]:
    with hub.store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(dead_letters).order_by(dead_letters.c.dead_at)).mappings()]


def test_the_consumer_applies_an_update_and_publishes_what_it_enqueued(hub: Hub, consumer: StatusConsumer) -> None:
    cid, _ = delivered(hub, WATER)
    raw = json.dumps(update(cid, "pam-jaya", "acknowledged"))
    assert consumer.process(raw, "status") == "acknowledged"
    assert consumer.process(raw, "status") == "duplicate"
    with hub.store.engine.connect() as conn:
        told = conn.execute(sa.select(outbox.c.published_at).where(outbox.c.message_id.like("event:%"))).all()
    assert len(told) == 1 and told[0].published_at is not None
    assert dead_letter_rows(hub) == [] and dead_queue(hub) == []


@pytest.mark.parametrize("raw, reason, field", [
    (b"{not json", "status update is not JSON", None),
    (json.dumps({"update_id": "u-1", "destination": "pam-jaya", "status": "acknowledged"}),
     "complaint_id: is required", "complaint_id"),
])
def test_a_message_that_is_not_a_status_update_is_dead_lettered_with_the_reason(
        hub: Hub, consumer: StatusConsumer, raw: bytes | str, reason: str, field: str | None) -> None:
    assert consumer.process(raw, "status") == "dead"
    [row] = dead_letter_rows(hub)
    assert row["stage"] == "status" and reason in row["reason"]
    assert row["original"] == (raw.decode() if isinstance(raw, bytes) else raw)
    assert row["original_routing_key"] == "status"
    assert [e["field"] for e in row["errors"]] == ([field] if field else [])
    [announced] = dead_queue(hub)
    assert announced["id"] == row["id"] and announced["reason"] == row["reason"]


def test_an_update_that_can_never_apply_is_dead_lettered_naming_the_complaint_and_sender(
        hub: Hub, consumer: StatusConsumer) -> None:
    cid, _ = delivered(hub, WATER)
    assert consumer.process(json.dumps(update(cid, "dinas-sda", "acknowledged", "x-1")), "status") == "dead"
    assert consumer.process(json.dumps(update("c-gone", "pam-jaya", "acknowledged", "x-2")), "status") == "dead"
    consumer.process(json.dumps(update(cid, "pam-jaya", "acknowledged", "x-3")), "status")
    assert consumer.process(json.dumps(update(cid, "pam-jaya", "acknowledged", "x-4")), "status") == "dead"
    rows = dead_letter_rows(hub)
    assert [(r["complaint_id"], r["destination"]) for r in rows] == [
        (cid, "dinas-sda"), ("c-gone", "pam-jaya"), (cid, "pam-jaya")]
    assert "was not delivered to 'dinas-sda'" in rows[0]["reason"]
    assert "c-gone" in rows[1]["reason"]
    assert "cannot become 'acknowledged'" in rows[2]["reason"]
    assert len(dead_queue(hub)) == 3
    assert delivery(hub, cid, "pam-jaya")["state"] == "acknowledged"


def test_the_same_bad_message_redelivered_stays_one_dead_letter(hub: Hub, consumer: StatusConsumer) -> None:
    assert consumer.process(b"nonsense", "status") == consumer.process(b"nonsense", "status") == "dead"
    assert len(dead_letter_rows(hub)) == 1
    with hub.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one() == 0
