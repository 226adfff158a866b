"""The bench's data: S is the demo as seeded, made anew each time in the bench's own database."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.generate import ROOT, bench_url
from core import db


@pytest.mark.long
async def test_s_is_the_demo_again_after_a_run_added_cases(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = bench_url("S")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}

    def generate() -> None:
        subprocess.run([sys.executable, "-m", "bench.generate", "--size", "S"], cwd=ROOT,
                       env=env, check=True, capture_output=True)

    async def cases() -> int:  # the demo's
        conn = await db.connect(url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM supervision_case"))
        finally:
            await conn.close()

    generate()
    seeded = await cases()
    assert seeded > 0
    conn = await db.connect(url)
    try:  # what a run leaves behind (its W1 adds cases)
        await conn.execute("UPDATE supervision_case SET title = 'bench' WHERE id IN "
                           "(SELECT id FROM supervision_case ORDER BY id LIMIT 5)")
    finally:
        await conn.close()
    generate()
    assert await cases() == seeded
    conn = await db.connect(url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM supervision_case "
                                   "WHERE title = 'bench'") == 0
    finally:
        await conn.close()
