"""The audit trail: every mutation and sign-in recorded, chained, and checked."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from asyncpg.exceptions import RaiseError
from tortoise import connections

from core import audit
from core.audit import AuditRecord
from tests.support import Api


async def test_sign_ins_and_mutations_are_recorded_with_request_id(api: Api, demo: None) -> None:
    await AuditRecord.all().count()
    response = await api.client.post("/graphql", json={"query": (
        'mutation { login(username: "admin.dc", password: "demo-pass-2020") { accessToken } }'
    )}, headers={"X-Request-ID": "trace-1"})
    token = response.json()["data"]["login"]["accessToken"]
    await api.login("admin.dc", "wrong-password")
    await api.gql('mutation { createAccount(username: "clerk.dc", kind: STAFF, '
                  'homePath: "jl.th.dc", password: "long-enough-pass") { username } }',
                  token=token)
    login = await AuditRecord.get(action="login")
    assert (login.actor, login.request_id, login.jurisdiction) == ("admin.dc", "trace-1",
                                                                    "jl.th.dc")
    failed = await AuditRecord.get(action="login.failed")
    assert failed.actor == "admin.dc" and "password" not in str(failed.detail)
    created = await AuditRecord.get(action="account.create", actor="admin.dc")
    assert created.target_type == "account" and created.jurisdiction == "jl.th.dc"
    assert await audit.verify() is None


async def test_records_are_chained_by_hash(demo: None) -> None:
    records = await AuditRecord.all().order_by("id")
    assert records[0].prev_hash == audit.GENESIS
    for before, after in itertools.pairwise(records):
        assert after.prev_hash == before.hash


async def test_the_database_refuses_to_change_a_record(demo: None) -> None:
    record = await AuditRecord.all().order_by("id").first()
    assert record is not None
    record.actor = "someone-else"
    with pytest.raises(RaiseError, match="append-only"):
        await record.save()
    with pytest.raises(RaiseError, match="append-only"):
        await AuditRecord.filter(id=record.id).delete()


async def _tamper(record_id: int) -> None:
    """What an intruder with the table owner's rights could do: switch the guard off."""
    conn = connections.get("default")
    await conn.execute_script(
        "ALTER TABLE audit_record DISABLE TRIGGER audit_record_append_only;"
        f"UPDATE audit_record SET actor = 'nobody' WHERE id = {int(record_id)};"
        "ALTER TABLE audit_record ENABLE TRIGGER audit_record_append_only;"
    )


async def test_verify_names_the_first_tampered_record(demo: None) -> None:
    ids = [r.id for r in await AuditRecord.all().order_by("id").only("id")]
    assert len(ids) > 5 and await audit.verify() is None
    await _tamper(ids[3])
    assert await audit.verify() == ids[3]


async def test_cli_audit_verify_exit_code_and_message(demo: None, database_url: str) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-m", "core", "audit-verify"], cwd=root, env=env,
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "intact" in ok.stdout
    ids = [r.id for r in await AuditRecord.all().order_by("id").only("id")]
    await _tamper(ids[2])
    broken = subprocess.run([sys.executable, "-m", "core", "audit-verify"], cwd=root, env=env,
                            capture_output=True, text=True, check=False)
    assert broken.returncode == 1
    assert f"broken at record {ids[2]}" in broken.stdout
