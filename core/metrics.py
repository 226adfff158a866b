"""Prometheus metrics of this process: requests and latency by operation, errors by code."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter("graphql_requests_total", "GraphQL operations served", ["operation"])
LATENCY = Histogram("graphql_request_seconds", "GraphQL operation latency", ["operation"])
ERRORS = Counter("graphql_errors_total", "GraphQL errors returned", ["code"])
HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["path", "status"])
