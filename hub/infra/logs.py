"""structlog configured for JSON lines, with complaint and delivery ids bound per message."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from hub.core import privacy


def scrub(_: object, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """No identifier (NIK/KK, phone, e-mail) and no password in a URL reaches a log line."""
    return {k: _clean(v) for k, v in event.items()}


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return privacy.mask_text(privacy.redact_urls_in(value))
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def configure(level: str = "INFO", stream=None) -> None:
    logging.basicConfig(level=level, stream=stream or sys.stderr, format="%(message)s")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            scrub,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
