"""core/writes.py: several writes as one statement (each part's parameters its own, all of
them or none written, rows of one part named by another), a model's INSERT as Tortoise's own
save writes it, and keys taken ahead from a table's sequence."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import clock, orm, writes
from core.cases.models import Case, CaseEvent, Finding, State
from core.notifications.models import Notification
from core.private import meta


async def test_parts_keep_their_own_parameters_and_are_counted_in_order(clean: None) -> None:
    eleven = writes.Write("SELECT generate_series($1::int, $2::int + $3 + $4 + $5 + $6 + $7 + $8"
                          " + $9 + $10 + $11)", [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4])
    assert await writes.run(writes.Write("SELECT generate_series(1, $1::int)", [3]), eleven,
                            writes.Write("SELECT generate_series($1::int, $2::int)", [5, 14])
                            ) == [3, 4, 10]
    assert await writes.run(eleven) == [4]
    assert await writes.run() == []
    with pytest.raises(ValueError, match="2 values for 1 parameters"):
        await writes.run(writes.Write("SELECT $1::int", [1, 2]), eleven)


def _event(case_id: int, kind: str) -> CaseEvent:
    return CaseEvent(case_id=case_id, kind=kind, at=clock.now(), actor_role="SYSTEM",
                     actor="test", detail={"n": 1})


def _notice(text: str) -> writes.Write:
    return writes.Write("INSERT INTO notification (account_id, subject, subject_id, kind, text, "
                        "created_at) VALUES (1, 'case', 0, 'TEST', $1, now()) RETURNING 1",
                        [text])


async def test_all_parts_are_written_or_none(full_demo: None) -> None:
    case = await Case.first()
    assert case is not None
    notices, events = await Notification.all().count(), await CaseEvent.all().count()
    with pytest.raises(IntegrityError):  # the history row names no case
        await writes.run(_notice("first"), writes.insert(_event(-1, "BROKEN")))
    assert await Notification.all().count() == notices
    assert await CaseEvent.all().count() == events
    assert await writes.run(_notice("second"), writes.insert(_event(case.id, "FINE"))) == [1, 1]
    assert await Notification.filter(text="second").count() == 1
    assert await CaseEvent.filter(case_id=case.id, kind="FINE").count() == 1


async def test_a_row_named_by_another_part_is_written_with_it(full_demo: None) -> None:
    """Foreign keys are checked when the statement ends: a history row may name the case the
    same statement inserts, with a key taken ahead."""
    template = await Case.first()
    assert template is not None
    case = _copy(template, id=await writes.Keys(Case).take(), title="ahead")
    assert await writes.run(writes.insert(case), writes.insert(_event(case.id, "SUBMITTED"))
                            ) == [1, 1]
    assert (await Case.get(id=case.id)).title == "ahead"
    assert await CaseEvent.filter(case_id=case.id).count() == 1


def _copy(case: Case, **changed: Any) -> Case:
    stored = {name: getattr(case, name) for name in meta(case).fields_db_projection
              if name != "id"}
    return Case(**{**stored, **changed})


def _columns(row: Any) -> dict[str, Any]:
    return {k: v for k, v in dict(row).items() if k != "id"}


async def test_an_insert_writes_what_tortoise_writes(full_demo: None) -> None:
    """Every column as Tortoise's own save writes it: enums, nulls, defaults, JSON, times."""
    template = await Case.filter(record_type__isnull=False).first() or await Case.first()
    assert template is not None
    theirs = await Case.create(**{name: getattr(_copy(template), name)
                                  for name in meta(template).fields_db_projection
                                  if name != "id"})
    ours = _copy(template, id=await writes.Keys(Case).take())
    await writes.run(writes.insert(ours))
    event, their_event = _event(theirs.id, "SAME"), await CaseEvent.create(
        case_id=theirs.id, kind="SAME", at=clock.now(), actor_role="SYSTEM", actor="test",
        detail={"n": 1})
    event.at = their_event.at
    await writes.run(writes.insert(event))  # its key is the sequence's next
    conn = orm.client()
    _, cases = await conn.execute_query(
        "SELECT * FROM supervision_case WHERE id = ANY($1::int[]) ORDER BY id",
        [[theirs.id, ours.id]])
    assert len(cases) == 2 and _columns(cases[0]) == _columns(cases[1])
    _, events = await conn.execute_query(
        "SELECT * FROM case_event WHERE kind = 'SAME' ORDER BY id")
    assert len(events) == 2 and _columns(events[0]) == _columns(events[1])
    assert events[1]["id"] > events[0]["id"]


def _stored(case: Case) -> dict[str, Any]:
    return {name: getattr(case, name) for name in meta(case).fields_db_projection}


async def test_an_update_writes_what_tortoise_writes(full_demo: None) -> None:
    """Every field as Tortoise's own save writes it, read back the same."""
    first, second = await Case.all().order_by("id").limit(2)
    for case in (first, second):
        case.title, case.rating, case.due_at = "changed", 4, None
        case.finding = Finding.PARTLY_SUBSTANTIATED
        case.state, case.closed_at, case.reopened = State.ACCEPTED, clock.now(), True
    await first.save()
    assert await writes.run(writes.update(second)) == [1]
    for case in (first, second):
        assert _stored(await Case.get(id=case.id)) == _stored(case)
    assert await Case.filter(title="changed").count() == 2


async def test_keys_taken_ahead_are_unique_and_from_the_sequence(
        clean: None, owner: asyncpg.Connection) -> None:
    keys = writes.Keys(Case, ahead=4)
    conn = orm.client()
    _, before = await conn.execute_query(
        "SELECT nextval(pg_get_serial_sequence('supervision_case', 'id'))")
    taken = await asyncio.gather(*(keys.take() for _ in range(30)))
    assert len(set(taken)) == 30 and min(taken) > before[0][0]
    _, after = await conn.execute_query(
        "SELECT nextval(pg_get_serial_sequence('supervision_case', 'id'))")
    assert after[0][0] > max(taken)  # the sequence will not give them again
    await owner.execute("ALTER SEQUENCE supervision_case_id_seq RESTART")
    writes.forget_keys()  # as the tests' clean-up does: those not used are dropped
    assert await keys.take() == 1


def _in_its_transaction(text: str) -> writes.Write:
    """A notice whose subject id is the id of the transaction that writes it."""
    return writes.Write("INSERT INTO notification (account_id, subject, subject_id, kind, text, "
                        "created_at) VALUES (1, 'case', txid_current(), 'TEST', $1, "
                        "now()) RETURNING 1", [text])


@pytest.mark.parametrize("shapes", [1, 2])
async def test_concurrent_commits_are_committed_together(full_demo: None, shapes: int) -> None:
    """Twenty operations at once, each one statement of its own (all of one shape, or of
    two): one transaction commits them all."""
    await asyncio.gather(*(writes.commit(_in_its_transaction(f"n{n}"),
                                         *([_notice(f"m{n}")] if n % shapes == 0 else []))
                           for n in range(20)))
    rows = await Notification.filter(kind="TEST", text__startswith="n").values_list(
        "subject_id", flat=True)
    assert len(rows) == 20 and len(set(rows)) == 1
    assert await Notification.filter(kind="TEST", text__startswith="m").count() == 20 // shapes


async def test_one_failing_commit_fails_alone(full_demo: None,
                                              caplog: pytest.LogCaptureFixture) -> None:
    """One operation of a batch breaks a foreign key: it fails with its own error, nothing of
    it is written, and the others are committed (each alone, once the batch failed)."""
    case = await Case.first()
    assert case is not None
    broken = writes.commit(_in_its_transaction("broken"), writes.insert(_event(-1, "BROKEN")))
    fine = [writes.commit(_in_its_transaction(f"fine{n}"), writes.insert(_event(case.id, "OK")))
            for n in range(5)]
    outcomes = await asyncio.gather(broken, *fine, return_exceptions=True)
    assert isinstance(outcomes[0], IntegrityError)
    assert outcomes[1:] == [None] * 5
    assert [r.getMessage() for r in caplog.records if r.name == "core.writes"] == [
        "a batch of 6 commits failed (ForeignKeyViolationError); each again alone"]
    assert not await Notification.filter(text="broken").exists()
    assert await Notification.filter(text__startswith="fine").count() == 5
    assert await CaseEvent.filter(case_id=case.id, kind="OK").count() == 5
    assert not await CaseEvent.filter(kind="BROKEN").exists()


async def test_a_commit_inside_a_transaction_is_part_of_it(full_demo: None) -> None:
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await writes.commit(_notice("undone"))
            raise RuntimeError
    assert not await Notification.filter(text="undone").exists()


async def test_a_cancelled_request_s_writes_are_committed_with_its_batch(
        full_demo: None) -> None:
    """A request that gives up (its timeout) does not take the batch down with it: the others
    are committed, and so is its own statement, as one already sent would be."""
    gone = asyncio.ensure_future(writes.commit(_notice("gave up")))
    kept = asyncio.ensure_future(writes.commit(_notice("waited")))
    await asyncio.sleep(0)
    gone.cancel()
    await kept
    assert gone.cancelled()
    assert await Notification.filter(text__in=["gave up", "waited"]).count() == 2
