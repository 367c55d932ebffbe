"""The exactly-once audit for the fault scenarios of issue 10, seen from outside the hub: an
operator that logs every request with its start and end (`tests/faults/operator.py`) and the
department queues read as a deduplicating subscriber would. Prints its counts like the rest of the
fault suite (tests/faults/fault_harness.py) and asserts:

- every delivery attempted in at most one place at a time (no overlapping requests per webhook-id);
- attempts per delivery equal to the policy: the operator saw exactly the attempts the hub
  recorded, and never more than the quick retries times the long schedule allow;
- nothing left `pending` without a retry that will fire (no retry due beyond the schedule);
- every accepted complaint delivered exactly once after dedup, with no duplicate at all.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from hub.infra.store import complaints, deliveries
from hub.pipeline.retry import delivery_retries
from hub.settings.runtime import Hub
from tests.faults.fault_harness import REPORT, drain_department_queues
from tests.faults.operator import Operator


def far_retries(hub: Hub, horizon: float) -> int:
    """Deliveries pending behind a retry due later than any schedule would put it."""
    limit = datetime.now(timezone.utc) + timedelta(seconds=horizon)
    with hub.store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(
            delivery_retries.join(deliveries, deliveries.c.id == delivery_retries.c.delivery_id))
            .where(deliveries.c.status == "pending", delivery_retries.c.due_at > limit)).scalar_one()


def pending(hub: Hub) -> int:
    with hub.store.engine.connect() as conn:
        unrouted = conn.execute(sa.select(sa.func.count()).select_from(complaints)
                                .where(complaints.c.status.in_(["received", "routed"]))).scalar_one()
        waiting = conn.execute(sa.select(sa.func.count()).select_from(deliveries)
                               .where(deliveries.c.status == "pending")).scalar_one()
    return unrouted + waiting


def audit(hub: Hub, operator: Operator, accepted: list[str], label: str, *, quick_attempts: int,
          schedule: tuple[float, ...], timeout: float = 180, department_queues: bool = True,
          **extra: Any) -> dict[str, Any]:
    horizon = max(schedule or (0,)) * 1.2 + 600  # the longest step, jittered, plus a lease's worth
    worst_far = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worst_far = max(worst_far, far_retries(hub, horizon))
        if pending(hub) == 0:
            break
        time.sleep(0.5)
    time.sleep(1.0)  # the last acks and department messages
    with hub.store.engine.connect() as conn:
        rows = conn.execute(sa.select(deliveries.c.id, deliveries.c.complaint_id, deliveries.c.status,
                                      deliveries.c.adapter, deliveries.c.attempts)).mappings().all()
    ours = set(accepted)
    expected = {r["id"]: r for r in rows if r["complaint_id"] in ours}
    queued, reads = ({}, 0)
    if department_queues:
        for _ in range(20):
            more, n = drain_department_queues(hub)
            reads += n
            for k, v in more.items():
                queued[k] = queued.get(k, 0) + v
            if set(expected) <= set(queued) | set(operator.accepted()):
                break
            time.sleep(0.5)
    hooks = operator.accepted()
    got = set(queued) | set(hooks)
    seen = operator.by_delivery()
    budget = quick_attempts * (1 + len(schedule))
    mismatched = sorted(did for did, r in expected.items() if r["adapter"] == "webhook"
                        and len(seen.get(did, [])) != r["attempts"])
    over_policy = sorted(did for did, rs in seen.items() if len(rs) > budget)
    statuses: dict[str, int] = {}
    for r in expected.values():
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    counts = {
        "scenario": label,
        "accepted": len(ours),
        "deliveries_expected": len(expected),
        "delivered": len(got & set(expected)),
        "duplicates": {"department_queues": reads - len(queued),
                       "webhooks": sum(n - 1 for n in hooks.values())},
        "overlapping_attempts": len(operator.overlapping()),
        "attempts_not_as_recorded": len(mismatched),
        "attempts_over_policy": len(over_policy),
        "stranded_far_retry": worst_far,
        "still_pending": statuses.get("pending", 0),
        "dead": statuses.get("dead", 0),
        "webhook_requests": sum(len(rs) for rs in seen.values()),
        **extra,
    }
    print(f"\nfault suite: {json.dumps(counts, ensure_ascii=False)}")
    REPORT.append(counts)
    problems = []
    if counts["overlapping_attempts"]:
        problems.append(f"{counts['overlapping_attempts']} deliveries attempted twice at once: "
                        f"{operator.overlapping()[:3]}")
    if mismatched:
        d = mismatched[0]
        problems.append(f"{len(mismatched)} deliveries with attempts the hub did not record as made, e.g. "
                        f"{d}: operator saw {len(seen.get(d, []))}, store says {expected[d]['attempts']}")
    if over_policy:
        problems.append(f"{len(over_policy)} deliveries attempted more than the policy's {budget}")
    if worst_far:
        problems.append(f"{worst_far} deliveries pending behind a retry beyond the schedule ({horizon:.0f} s)")
    if counts["still_pending"] or counts["dead"]:
        problems.append(f"not settled as delivered: {statuses}")
    if got & set(expected) != set(expected):
        problems.append(f"{len(set(expected) - got)} of {len(expected)} deliveries never arrived")
    if counts["duplicates"] != {"department_queues": 0, "webhooks": 0}:
        problems.append(f"duplicates: {counts['duplicates']}")
    assert not problems, f"{label}: " + "; ".join(problems)
    return counts
