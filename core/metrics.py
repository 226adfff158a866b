"""Prometheus metrics of this process: requests and latency by operation, errors by code, and
the periodic jobs' runs (alert on a job whose last success is too old)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("graphql_requests_total", "GraphQL operations served", ["operation"])
LATENCY = Histogram("graphql_request_seconds", "GraphQL operation latency", ["operation"])
ERRORS = Counter("graphql_errors_total", "GraphQL errors returned", ["code"])
JOB_RUNS = Counter("job_runs_total", "Runs of the periodic jobs", ["job", "outcome"])
JOB_LAST_SUCCESS = Gauge("job_last_success_timestamp_seconds",
                         "When each periodic job last ran to its end (Unix time)", ["job"])
# Operation names are the callers' own: past this many, further names share one series, so
# that a client naming each request anew cannot grow the process's memory and /metrics.
OPERATIONS_MEASURED = 300
OTHER = "(other)"
_by_operation: dict[str, tuple[Counter, Histogram]] = {}


def operation(name: str) -> tuple[Counter, Histogram]:
    """The request counter and the latency histogram of an operation name (looked up once:
    prometheus_client's `labels` is a few per cent of a short request)."""
    found = _by_operation.get(name)
    if found is None:
        if len(_by_operation) >= OPERATIONS_MEASURED:
            name = OTHER
        found = _by_operation.get(name) or (REQUESTS.labels(operation=name),
                                            LATENCY.labels(operation=name))
        _by_operation[name] = found
    return found
