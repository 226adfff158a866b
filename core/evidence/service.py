"""Who may download an attachment: the reader of what it belongs to, each domain deciding
(a case by its visibility, an assistance report by its own), or its uploader while it is
staged. Above cases, assistance and attachments, so that none of them imports another."""

from __future__ import annotations

from core.assistance.service import get_request
from core.attachments import service as attachments
from core.attachments.models import Attachment
from core.cases.access import get_case
from core.principal import Principal


async def readable(principal: Principal, attachment_id: int) -> Attachment:
    """The attachment when the caller may read it; NOT_FOUND otherwise."""
    found = await attachments.fetch(principal, attachment_id)
    if found.case_id is not None:
        await get_case(principal, found.case_id)
    elif found.assistance_id is not None:
        await get_request(principal, found.assistance_id)
    return found
