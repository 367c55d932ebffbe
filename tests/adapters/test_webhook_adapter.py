"""The webhook adapter as a specification, with no network: an injected requests transport
answers as an operator would (httpx's MockTransport idea, with requests' transport adapters)."""

from __future__ import annotations

from typing import Any, Callable

import pytest
import requests
from requests.adapters import BaseAdapter
from standardwebhooks.webhooks import Webhook

from adapters import Context, Failed
from adapters.webhook import WebhookAdapter
from hub.core.destinations import Destination
from hub.settings.environment import Settings

SECRET = "whsec_ZGV2LW9ubHktdGVzdC1zZWNyZXQtMDAwMDAwMA=="
DELIVERY = {"type": "laporhub.delivery.v1", "delivery_id": "d-1", "complaint_id": "c-1",
            "destination": "pln", "complaint": {"text": "Listrik padam"}}


class Transport(BaseAdapter):
    """Answers each request with the next of `answers` (a status, or an exception to raise)."""

    def __init__(self, *answers: int | tuple[int, dict[str, str]] | Exception) -> None:
        super().__init__()
        self.answers = list(answers)
        self.seen: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:
        self.seen.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, headers = answer if isinstance(answer, tuple) else (answer, {})
        resp = requests.Response()
        resp.status_code, resp.request, resp.url = status, request, request.url
        resp.headers.update(headers)
        resp._content = b"operator says no" if status >= 400 else b"{}"
        return resp

    def close(self) -> None:
        pass


def adapter(transport: Transport, **options: Any) -> WebhookAdapter:
    def session() -> requests.Session:
        s = requests.Session()
        s.mount("https://", transport)
        return s
    dest = Destination(id="pln", name="PLN", kind="operator", adapter="webhook",
                       options={"url": "https://pln.example/hook", "secret": SECRET,
                                "backoff_initial": 0, **options})
    http: Callable[[], requests.Session] = session
    return WebhookAdapter(dest, Context(bus=None, settings=Settings(), http=http),  # type: ignore[arg-type]
                          sleep=lambda _: None)


def test_a_2xx_delivers_a_body_the_operator_can_verify_with_its_own_library() -> None:
    transport = Transport(200)
    receipt = adapter(transport).deliver(DELIVERY)
    [sent] = transport.seen
    assert receipt.detail == "HTTP 200"
    assert [a.outcome for a in receipt.attempts] == ["delivered"]
    assert Webhook(SECRET).verify(sent.body, dict(sent.headers))["delivery_id"] == "d-1"
    assert sent.headers["webhook-id"] == "d-1"


def test_5xx_and_timeouts_are_retried_then_delivered_with_the_same_webhook_id() -> None:
    transport = Transport(503, requests.Timeout(), 200)
    receipt = adapter(transport).deliver(DELIVERY)
    assert [a.outcome for a in receipt.attempts] == ["retry", "retry", "delivered"]
    assert {r.headers["webhook-id"] for r in transport.seen} == {"d-1"}


def test_a_4xx_is_refused_at_once_and_not_retried() -> None:
    transport = Transport(400)
    with pytest.raises(Failed) as failed:
        adapter(transport).deliver(DELIVERY)
    assert len(transport.seen) == 1
    assert not failed.value.retryable and not failed.value.gone
    assert "HTTP 400" in str(failed.value)


def test_410_says_the_endpoint_is_gone() -> None:
    with pytest.raises(Failed) as failed:
        adapter(Transport(410)).deliver(DELIVERY)
    assert failed.value.gone


def test_giving_up_after_the_quick_attempts_is_retryable_and_carries_retry_after() -> None:
    transport = Transport(*([(429, {"retry-after": "120"})] * 3))
    with pytest.raises(Failed) as failed:
        adapter(transport, max_attempts=3).deliver(DELIVERY)
    assert len(transport.seen) == 3
    assert failed.value.retryable and failed.value.retry_after == 120
