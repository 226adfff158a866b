"""Exports of the roster, cases and assessments as CSV or XLSX: a short-lived signed link
(`requestExport`), served by the app with the same scope rules as the API, row batches read
by keyset so that large exports never sit in memory whole. Case exports carry the reporter
only for the handling office (R4.4), and those reads are audited."""

from __future__ import annotations

import csv
import io
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from enum import StrEnum
from typing import Any

import jwt
from openpyxl import Workbook

from core import audit, clock
from core.accounts.models import Account, Session
from core.auth import ALGORITHM, ISSUER
from core.cases.access import CaseFilter, list_cases
from core.cases.confidentiality import visible_reporters
from core.config import settings
from core.errors import InvalidInput, Unauthenticated
from core.principal import Principal
from core.roster.service import SupervisorFilter, list_supervisors
from core.scoring.assessment import get_assessment, results
from policies.access import authorize

LINK_SECONDS = 300
BATCH = 100


class ExportKind(StrEnum):
    ROSTER = "ROSTER"
    CASES = "CASES"
    ASSESSMENTS = "ASSESSMENTS"


class ExportFormat(StrEnum):
    CSV = "CSV"
    XLSX = "XLSX"


async def request_export(principal: Principal, kind: ExportKind, fmt: ExportFormat,
                         jurisdiction: str, period: str | None) -> tuple[str, int]:
    """A signed download path valid for five minutes, and its lifetime."""
    authorize(principal, "create", "export", jurisdiction)
    if kind is ExportKind.ASSESSMENTS and not period:
        raise InvalidInput("导出考核须指定考核期", "Assessments need a period", field="period")
    claims = {"iss": ISSUER, "typ": "export", "sub": str(principal.account_id),
              "sid": str(principal.session_id or ""),
              "kind": kind.value, "fmt": fmt.value, "j": jurisdiction, "p": period or "",
              "exp": clock.now() + timedelta(seconds=LINK_SECONDS)}
    token = jwt.encode(claims, settings().signing_key(), algorithm=ALGORITHM)
    await audit.record(principal.actor, "export.request", target_type="export",
                       jurisdiction=jurisdiction, detail={"kind": kind.value,
                                                          "format": fmt.value})
    return f"/exports/{token}", LINK_SECONDS


async def open_export(token: str) -> tuple[Principal, dict[str, str]]:
    """Who asked and for what; the link dies after its lifetime or with the account."""
    try:
        claims = jwt.decode(token, settings().signing_key(), algorithms=[ALGORITHM],
                            issuer=ISSUER, options={"verify_exp": False})
    except jwt.PyJWTError:
        raise Unauthenticated("下载链接无效", "Invalid download link") from None
    if claims.get("typ") != "export" or claims["exp"] <= clock.now().timestamp():
        raise Unauthenticated("下载链接已过期", "The download link has expired")
    account = await Account.filter(id=int(claims["sub"]), is_active=True).select_related(
        "home").first()
    # A link asked for in a session lives no longer than the session (logout ends it too).
    session = uuid.UUID(claims["sid"]) if claims.get("sid") else None
    if account is None or (session is not None and not await Session.exists(
            id=session, account_id=account.id, revoked_at__isnull=True)):
        raise Unauthenticated("下载链接已失效", "The download link is no longer valid")
    return Principal(account.id, account.username, account.kind, account.home.path,
                     session), claims


async def rows(principal: Principal, claims: dict[str, str]) -> AsyncIterator[list[Any]]:
    """The header, then every row, batch by batch, through the same scoped queries as the
    API."""
    kind = ExportKind(claims["kind"])
    if kind is ExportKind.ROSTER:
        yield ["id", "姓名", "辖区", "类别", "小微企业", "特约", "状态", "任期开始", "任期结束",
               "身份证号（脱敏）"]
        after = None
        while True:
            page = await list_supervisors(principal, SupervisorFilter(
                jurisdiction=claims["j"]), BATCH, after)
            for s in page.items:
                yield [s.id, s.name, claims["j"], s.category.value, s.is_small_micro,
                       s.is_special, s.status.value, s.term_start.isoformat(),
                       s.term_end.isoformat(), s.id_number_masked]
            if not page.has_next:
                return
            after = page.items[-1].id
    elif kind is ExportKind.CASES:
        yield ["id", "类型", "类别", "状态", "提交时间", "部门单位", "办理期限", "举报人"]
        after = None
        while True:
            cases = await list_cases(principal, CaseFilter(jurisdiction=claims["j"]), BATCH,
                                     after)
            reporters = await visible_reporters(principal, cases.items)
            for c in cases.items:
                reporter = reporters.get(c.id)
                yield [c.id, c.kind.value, c.category.value, c.state.value,
                       c.submitted_at.isoformat(), c.agency_id,
                       c.due_at.isoformat() if c.due_at else "",
                       reporter.name if reporter else ""]
            if not cases.has_next:
                return
            after = cases.items[-1].id
    else:
        assessment = await get_assessment(principal, claims["j"], claims["p"])
        yield ["supervisor", "criterion 1", "criterion 2", "attendance", "points",
               "suggestions", "disciplines", "score", "grade", "adjusted score",
               "adjusted grade"]
        for r in await results(assessment):
            yield [r.supervisor_id, r.approval_records, r.firm_records,
                   r.attendance_rate, r.points, r.suggestions, r.disciplines, r.score,
                   r.grade.value, r.adjusted_score or "",
                   r.adjusted_grade.value if r.adjusted_grade else ""]


# A text cell a spreadsheet program would take for a formula (=, +, -, @; a tab or a carriage
# return before one): a title such as `=HYPERLINK("http://…")` must open as text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A value as a spreadsheet shows it: text that would start a formula gets a leading
    apostrophe (OWASP's CSV-injection advice); numbers and everything else as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


async def csv_chunks(source: AsyncIterator[list[Any]]) -> AsyncIterator[bytes]:
    yield "\ufeff".encode()  # a BOM, so that spreadsheet programs read the Chinese right
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    async for row in source:
        writer.writerow([cell(v) for v in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


async def xlsx_file(source: AsyncIterator[list[Any]]) -> str:
    """A write-only workbook (rows go to disk as they come), as a temporary file path."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("export")
    async for row in source:
        sheet.append([cell(v) for v in row])
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115
    handle.close()
    book.save(handle.name)
    return handle.name
