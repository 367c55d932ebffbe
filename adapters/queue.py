"""The `queue` adapter: a department's own durable RabbitMQ queue, consumed with any AMQP client."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Mapping

from adapters import Attempt, Context, Failed, Receipt, message_id
from hub.core import options
from hub.core.destinations import Destination


class QueueAdapter:
    """Publishes the delivery, persistent and confirmed, to the destination's queue.

    Options: `queue` (default `<prefix>.out.<destination id>`). The message id is the delivery
    id, so a department that sees the same id twice can drop the repeat.
    """

    name: ClassVar[str] = "queue"
    options_schema: ClassVar[dict[str, Any]] = {"properties": {"queue": {"type": "string", "minLength": 1}}}

    def __init__(self, destination: Destination, context: Context) -> None:
        try:
            opts = options.check(self.name, self.options_schema, destination.options)
        except Exception as exc:
            raise ValueError(f"destination {destination.id!r}: {exc}") from None
        self.destination = destination
        self.bus = context.bus
        self.queue = self.bus.topology.department_queue(destination.id, opts.get("queue"))
        self._declared = False

    def deliver(self, delivery: Mapping[str, Any]) -> Receipt:
        try:
            if not self._declared:
                self.bus.declare([self.queue])
                self._declared = True
            self.bus.publish("departments", self.destination.id, json.dumps(delivery, ensure_ascii=False),
                             message_id=message_id(delivery),
                             headers={"laporhub-complaint-id": delivery["complaint_id"]})
        except Exception as exc:  # noqa: BLE001 - the broker's errors are many; all mean "not delivered"
            self._declared = False
            raise Failed(f"publish to queue {self.queue.name} failed: {exc}",
                         [Attempt(1, "failed", str(exc))], retryable=True) from exc
        return Receipt([Attempt(1, "delivered", f"queued on {self.queue.name}")], self.queue.name)

    def close(self) -> None:
        pass
