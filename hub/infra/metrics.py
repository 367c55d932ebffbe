"""Prometheus metrics for the API and every worker (prometheus-client, default registry).

Counters and histograms are updated where things happen; the backlog figures read at scrape time
(outbox, dead letters, queue depths) are collected by hub/pipeline/backlog.py.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

COMPLAINTS_ACCEPTED = Counter("laporhub_complaints_accepted_total",
                              "Complaints accepted (new, not repeats)", ["channel"])
DECISIONS = Counter("laporhub_decisions_total", "Routing decisions by rule and destination",
                    ["rule", "destination"])
DELIVERIES = Counter("laporhub_deliveries_total", "Delivery outcomes by destination",
                     ["destination", "outcome"])
DELIVERY_SECONDS = Histogram("laporhub_delivery_seconds",
                             "From the delivery's creation (routing) to the destination confirming it",
                             ["destination"],
                             buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
                                      300, 1800, 7200, 36000))
RETRIES = Counter("laporhub_delivery_retries_total", "Delivery attempts that will be retried",
                  ["destination"])
DEAD_LETTERS = Counter("laporhub_dead_letters_total", "Messages dead-lettered, by stage", ["stage"])
RECONCILED = Counter("laporhub_deliveries_reconciled_total",
                     "Deliveries found pending with nothing in flight and no retry due, and re-queued",
                     ["destination"])
SLA_BREACHES = Counter("laporhub_sla_breaches_total",
                       "SLA breaches escalated, by the late destination, the limit (acknowledge, resolve) and level",
                       ["destination", "limit", "level"])
HANDOFFS = Counter("laporhub_handoffs_total",
                   "Complaints rejected or transferred, by border (from sector -> to sector) and kind",
                   ["from_sector", "to_sector", "kind"])
HANDOFF_HOURS = Counter("laporhub_handoff_hours_lost_total",
                        "Hours complaints were held before being passed on, by border", ["from_sector", "to_sector"])
CIRCUIT_OPEN = Gauge("laporhub_circuit_open", "1 while a destination's circuit breaker is open",
                     ["destination"])
