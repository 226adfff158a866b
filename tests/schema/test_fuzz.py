"""Fuzzing with schemathesis in GraphQL mode against a real server process: every query and
mutation of the introspected schema, with documents and arguments schemathesis generates, as
an office, a supervisor, an agency and nobody. No answer is a 5xx, no error is a masked
internal one, and every error carries its code."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok

from tests.support import Api, server_process

EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "12"))


def _fuzz(url: str, tokens: list[str | None]) -> tuple[int, list[str]]:
    """Runs in a thread (schemathesis and requests are synchronous)."""
    schema = schemathesis.graphql.from_url(url, timeout=30)
    sent, failures = 0, []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"an operation schemathesis cannot use: {result.err()}")
            continue
        operation = result.ok()

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  derandomize=True, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), token=st.sampled_from(tokens))
        def run(case: Any, token: str | None) -> None:
            nonlocal sent
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = case.call(headers=headers, timeout=30)
            sent += 1
            problem = _problem(response)
            if problem:
                failures.append(f"{case.operation.label}: {problem}\n{case.body}")

        run()
    return sent, failures


def _problem(response: Any) -> str | None:
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    body = response.json()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code is None:
            return f"an error without a code: {error}"
        if code == "INTERNAL_SERVER_ERROR":
            return f"a masked internal error: {error}"
    return None


@pytest.mark.long
async def test_fuzzed_documents_get_no_5xx_and_no_masked_error(
        api: Api, full_demo: None, database_url: str, tmp_path: Path) -> None:
    tokens = [await api.token(u) for u in ("admin.dc", "sv.dc.001", "ag.dc.sw")]
    async with server_process(database_url, tmp_path / "server.log") as base:
        sent, failures = await asyncio.to_thread(_fuzz, f"{base}/graphql", [*tokens, None])
    assert sent >= 100
    assert not failures, "\n\n".join(failures[:10])
