"""Pipelined publisher confirms: publish a batch, then wait for the broker to confirm all of it.

Waiting for each confirm before the next publish costs a round trip per message (the router
would reach about a sixth of what the broker can carry); a batch in flight costs one. Used by the
outbox relay on RabbitMQ; `Bus.publish` stays one-at-a-time for single messages.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import amqp
from kombu import Connection

from hub.core.errors import LaporHubError


class NotConfirmed(LaporHubError):
    """The broker refused (nack) or did not confirm some messages in time; they stay unpublished."""


@dataclass(frozen=True)
class Outgoing:
    exchange: str  # full exchange name
    routing_key: str
    body: str | bytes
    message_id: str
    headers: Mapping[str, Any]


class ConfirmPipeline:
    """One connection and one confirm-mode channel. Not thread-safe: one per thread."""

    def __init__(self, url: str, heartbeat: int = 30, confirm_timeout: float = 30.0) -> None:
        self.connection = Connection(url, heartbeat=heartbeat, connect_timeout=5)
        self.confirm_timeout = confirm_timeout
        self._channel: Any = None
        self._next_tag = 1
        self._acked: set[int] = set()
        self._nacked: set[int] = set()
        self._acked_upto = 0

    def _open(self) -> Any:
        if self._channel is None:
            self.connection.ensure_connection(max_retries=3)
            channel = self.connection.channel()
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            self._channel, self._next_tag = channel, 1
            self._acked, self._nacked, self._acked_upto = set(), set(), 0
        return self._channel

    def _on_ack(self, tag: int, multiple: bool) -> None:
        if multiple:
            self._acked_upto = max(self._acked_upto, tag)
        else:
            self._acked.add(tag)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._nacked.add(tag)
        if multiple:
            self._nacked.update(range(self._acked_upto + 1, tag))

    def _confirmed(self, tag: int) -> bool:
        return tag not in self._nacked and (tag <= self._acked_upto or tag in self._acked)

    def publish(self, batch: Sequence[Outgoing]) -> list[bool]:
        """Publish persistent; return, per message, whether the broker confirmed it.

        On a broken connection the channel is dropped (reopened on the next call) and the error
        raised; messages of the batch not confirmed must be published again.
        """
        channel = self._open()
        tags: list[int] = []
        try:
            for out in batch:
                body = out.body.encode() if isinstance(out.body, str) else out.body
                channel.basic_publish(
                    amqp.Message(body, content_type="application/json", content_encoding="utf-8",
                                 delivery_mode=2, message_id=out.message_id,
                                 application_headers=dict(out.headers)),
                    exchange=out.exchange, routing_key=out.routing_key)
                tags.append(self._next_tag)
                self._next_tag += 1
            deadline = time.monotonic() + self.confirm_timeout
            while tags and not all(self._confirmed(t) or t in self._nacked for t in tags):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    self.connection.drain_events(timeout=min(remaining, 1.0))
                except socket.timeout:
                    self.connection.heartbeat_check()
        except Exception:
            self.reset()
            raise
        return [self._confirmed(t) for t in tags]

    def reset(self) -> None:
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001 - already broken
            pass
        self.connection = self.connection.clone()
        self._channel = None

    def close(self) -> None:
        self.connection.release()
