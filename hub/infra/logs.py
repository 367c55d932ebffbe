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


class Scrub(logging.Filter):
    """The same for the standard library's log records (uvicorn's access log has query strings,
    which may carry an Open311 api_key)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(_clean(a) if isinstance(a, str) else a for a in record.args) \
                if isinstance(record.args, tuple) else record.args
        if isinstance(record.msg, str):
            record.msg = _clean(record.msg)
        return True


SCRUB = Scrub()


def scrub_std_logging() -> None:
    for name in ("", "uvicorn", "uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if SCRUB not in logger.filters:
            logger.addFilter(SCRUB)


def configure(level: str = "INFO", stream=None) -> None:
    logging.basicConfig(level=level, stream=stream or sys.stderr, format="%(message)s")
    # Alembic's "Context impl SQLiteImpl" on every start says nothing an operator needs.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    scrub_std_logging()
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
