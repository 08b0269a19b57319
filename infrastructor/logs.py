"""Structured logging with a correlation id that follows one piece of work across processes.

An API request (or a beat tick) gets an id; it is put on every log record, sent along with any
Celery task published while handling it (a message header), restored in the worker, and stored on
the audit rows the work writes. `grep <id> logs/*.log` then tells the whole story.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest, HttpResponse

_correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")

HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:16]


def get_correlation_id() -> str:
    return _correlation_id.get()


def set_correlation_id(value: str) -> contextvars.Token[str]:
    return _correlation_id.set(value)


@contextmanager
def correlation(value: str | None = None) -> Iterator[str]:
    """Run a block under a correlation id (a new one unless given)."""
    cid = value or new_correlation_id()
    token = _correlation_id.set(cid)
    try:
        yield cid
    finally:
        _correlation_id.reset(token)


class CorrelationIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _correlation_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: easy for Loki, jq and friends."""

    def format(self, record: logging.LogRecord) -> str:
        cid = getattr(record, "correlation_id", "")
        payload: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            # The filter writes "-" for "none" (readable in text logs); JSON says null.
            "correlation_id": None if cid in ("", "-") else cid,
        }
        for key in ("device", "kind", "run_id", "task_id"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class CorrelationIdMiddleware:
    """Takes the caller's X-Request-ID when it is sane, else makes one; echoes it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER, "")
        cid = incoming if _VALID_ID.match(incoming) else new_correlation_id()
        token = _correlation_id.set(cid)
        try:
            response = self.get_response(request)
        finally:
            _correlation_id.reset(token)
        response[HEADER] = cid
        return response
