"""R4.4 confidentiality: the reporter's identity is seen by the reporter and the handling
office's own staff; an agency sees it only after a recorded disclosure. Every disclosure and
every read of an identity by someone other than the reporter is in the audit trail."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from core import audit, clock
from core.attachments.models import Attachment
from core.attachments.service import EXTENSIONS
from core.cases.access import handled_paths, locked_case, relations
from core.cases.models import Case, Disclosure
from core.cases.service import record_step
from core.errors import Conflict
from core.principal import Principal
from core.roster.models import Supervisor
from core.validation import check_text
from policies.access import authorize_own_office
from tenants.directory import jurisdictions


async def visible_reporters(principal: Principal, cases: list[Case]) -> dict[int, Supervisor]:
    """Case id -> reporter, for the cases whose reporter the caller may see; the reads by
    anyone but the reporter are audited (one record for the batch)."""
    allowed = await shown_reporters(principal, [
        (c.id, c.reporter_id, c.jurisdiction_id) for c in cases])
    if not allowed:
        return {}
    # a case read with its reporter (access.get_case) brings it; the others' are read together
    people = {c.reporter_at_hand.id: c.reporter_at_hand for c in cases
              if c.reporter_at_hand is not None}
    unread = set(allowed.values()) - people.keys()
    if unread:
        people |= {s.id: s for s in await Supervisor.filter(id__in=unread)}
    return {case_id: people[sid] for case_id, sid in allowed.items()}


async def shown_reporters(principal: Principal, cases: list[tuple[int, int, int]]
                          ) -> dict[int, int]:
    """R4.4 for cases given as (id, reporter id, jurisdiction id): case id -> reporter id for
    those whose reporter the caller may see, the reads by anyone but the reporter audited (one
    record for the batch) before it returns."""
    if not cases:
        return {}
    mine = await relations(principal)
    own_offices = handled_paths(principal)
    office_ids = set(await jurisdictions.ids_where(own_offices.__contains__, key=own_offices))
    disclosed: set[int] = set()
    if mine.agency_id is not None:
        disclosed = {d.case_id for d in await Disclosure.filter(
            agency_id=mine.agency_id, case_id__in=[c for c, _, _ in cases]).only("case_id")}
    allowed: dict[int, int] = {}
    audited: list[int] = []
    for case_id, reporter_id, jurisdiction_id in cases:
        if mine.supervisor_id is not None and reporter_id == mine.supervisor_id:
            allowed[case_id] = reporter_id
        elif jurisdiction_id in office_ids or case_id in disclosed:
            allowed[case_id] = reporter_id
            audited.append(case_id)
    if audited:
        await audit.record(principal.actor, "case.reporter_read", target_type="case",
                           target_id=audited[0] if len(audited) == 1 else "",
                           detail={"cases": audited})
    return allowed


async def disclose_reporter(principal: Principal, case_id: int, reason: str) -> Case:
    """R4.4: the handling office discloses the reporter to the agency, with a recorded reason."""
    reason = check_text(reason, "reason", maximum=2000)
    async with in_transaction():
        case = await locked_case(principal, case_id)  # disclosures of one case, one by one
        authorize_own_office(principal, "handle", "case", case.jurisdiction.path)
        if await Disclosure.exists(case=case, agency_id=case.agency.id):
            raise Conflict("已向该部门披露", "Already disclosed to this agency")
        await Disclosure.create(case=case, agency_id=case.agency.id, reason=reason,
                                by=principal.username, at=clock.now())
        await record_step(case, principal, "OFFICE", "DISCLOSED", note=reason,
                          detail={"agency": case.agency.id})
    return case


def shown_filename(principal: Principal, case_id: int, case_path: str,
                   attachment: Attachment, index: int) -> str:
    """R4.4: the uploaded name (`赵军-举报材料.pdf`) for the reporter who uploaded it and the
    handling office; for everyone else who sees the case (the agency, the offices reading
    shared cases) a neutral one: the case's number and the attachment's place."""
    if attachment.uploader_id == principal.account_id or case_path in handled_paths(principal):
        return attachment.filename
    return f"第{case_id}号案件-附件{index}.{EXTENSIONS.get(attachment.content_type, 'bin')}"
