"""Evidence files: checked by their content (not their claimed type), capped in size, images
re-encoded without metadata (EXIF, GPS, XMP), PDFs rewritten without theirs (document info,
XMP), stored with their sha256; shown under a neutral name to all but the reporter and the
handling office (R4.4)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from tortoise.transactions import in_transaction

from core import audit, clock, offload, orm, writes
from core.attachments import cleaning
from core.attachments.models import Attachment
from core.errors import InvalidInput, NotFound, RateLimited
from core.principal import Principal
from core.validation import check_text

MAX_BYTES = 10 * 1024 * 1024
# An upload waits, staged to its uploader, this long for the case or assistance report that
# takes it, and is purged after (hourly, every server process); at most MAX_STAGED of one
# account's wait at once. Each is up to 10 MB in the database.
STAGED_FOR = timedelta(days=1)
MAX_STAGED = 20
# Attachment ids are PostgreSQL integers.
MAX_ID = 2**31
_SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png",
               b"%PDF-": "application/pdf"}


def sniff(data: bytes) -> str | None:
    return next((kind for magic, kind in _SIGNATURES.items() if data.startswith(magic)), None)


EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


async def stage(principal: Principal, filename: str, data: bytes) -> Attachment:
    """Store an upload for the caller; it joins a case when submitted with it."""
    filename = check_text(filename.replace("/", "_").replace("\\", "_"), "filename",
                          maximum=200)
    if not data:
        raise InvalidInput("文件为空", "The file is empty", field="file")
    if len(data) > MAX_BYTES:
        raise InvalidInput("文件大小须在10MB以内", "Files must be at most 10 MB", field="file")
    content_type = sniff(data)
    if content_type is None:
        raise InvalidInput("只接受 JPEG、PNG 或 PDF 文件", "Only JPEG, PNG or PDF files",
                           field="file")
    if await Attachment.filter(uploader_id=principal.account_id, case_id=None,
                               assistance_id=None).count() >= MAX_STAGED:
        raise RateLimited(f"待提交的附件已有{MAX_STAGED}个，请先提交或等待其过期",
                          f"{MAX_STAGED} uploads already wait to be submitted: submit them, "
                          "or wait a day for them to lapse", field="file")
    cleaned = await offload.run(cleaning.clean, data, content_type)  # off the event loop
    if cleaned is None:
        raise (InvalidInput("PDF 无法读取", "Unreadable PDF", field="file")
               if content_type == "application/pdf" else
               InvalidInput("图片无法读取", "Unreadable image", field="file"))
    data = cleaned
    attachment = await Attachment.create(
        uploader_id=principal.account_id, filename=filename, content_type=content_type,
        size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data,
        uploaded_at=clock.now())
    await audit.record(principal.actor, "attachment.upload", target_type="attachment",
                       target_id=attachment.id, detail={"sha256": attachment.sha256})
    return attachment


# Staged uploads of the caller, attached to one thing; an upload claimed by a concurrent
# request is not claimed again (the UPDATE re-reads a row another transaction changed).
_CLAIM = """
UPDATE attachment SET case_id = $3, assistance_id = $4
WHERE id = ANY($1::int[]) AND uploader_id = $2 AND case_id IS NULL AND assistance_id IS NULL
RETURNING 1"""


def claiming(principal: Principal, ids: tuple[int, ...], *, case_id: int | None = None,
             assistance_id: int | None = None) -> list[writes.Write]:
    """The claim of the caller's staged uploads for a case or an assistance report, as a write
    of the caller's transaction (core/writes.py); `claimed` checks what it returned."""
    if not ids:
        return []
    return [writes.Write(_CLAIM, [sorted(set(ids)), principal.account_id, case_id,
                                  assistance_id])]


def claimed(count: int, ids: tuple[int, ...]) -> None:
    """Every upload named was the caller's and staged; else NOT_FOUND (and the transaction
    undoes the claim of the others)."""
    if count != len(set(ids)):
        raise NotFound("附件不存在或已使用", "No such staged attachment", field="attachmentIds")


async def claim(principal: Principal, ids: tuple[int, ...], *, case_id: int | None = None,
                assistance_id: int | None = None) -> None:
    """Attach the caller's staged uploads to a case or an assistance report (inside the
    caller's transaction); an upload joins one thing only."""
    counts = await writes.run(*claiming(principal, ids, case_id=case_id,
                                        assistance_id=assistance_id))
    claimed(sum(counts), ids)


async def fetch(principal: Principal, attachment_id: int) -> Attachment:
    """An attachment by its id: one that belongs to a case or an assistance report (whose
    reader the caller must then be: core/evidence says so), or the caller's own staged
    upload; NOT_FOUND otherwise."""
    found = await Attachment.get_or_none(id=attachment_id)
    if found is None or (found.case_id is None and found.assistance_id is None
                         and found.uploader_id != principal.account_id):
        raise NotFound("附件不存在", "No such attachment", field="id")
    return found


_PURGE = """
DELETE FROM attachment WHERE case_id IS NULL AND assistance_id IS NULL AND uploaded_at < $1
RETURNING id"""


async def purge_staged() -> int:
    """Delete the uploads that nothing took within STAGED_FOR (their upload is in the audit
    trail, and one record names the purged); how many."""
    async with in_transaction():
        rows = await orm.client().execute_query_dict(_PURGE, [clock.now() - STAGED_FOR])
        purged = sorted(r["id"] for r in rows)
        if purged:
            await audit.record(audit.SYSTEM, "attachment.purge", target_type="attachment",
                               detail={"attachments": purged})
    return len(purged)
