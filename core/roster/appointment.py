"""Becoming a supervisor: R1.1 conditions, R1.4 applications, R1.5 nominations, the review,
and the appointment with its two-year term (R1.7), account and pending filing (R1.6)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from tortoise.transactions import in_transaction

from core import audit, clock, crypto, throttle
from core.accounts import grants
from core.accounts.service import open_account
from core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, RuleViolation
from core.pagination import Page, keyset
from core.principal import AccountKind, Principal
from core.roster import rules
from core.roster.composition import counts_for, with_person
from core.roster.models import (
    Application,
    ApplicationPath,
    ApplicationStatus,
    Category,
    Endorsement,
    Filing,
    Gender,
    Status,
    Supervisor,
)
from core.roster.service import own_supervisor, record_event
from core.validation import check_coordinates, check_phone, check_text
from policies.access import authorize_own_office, readable
from policies.enforcer import store
from tenants.directory import jurisdictions
from tenants.models import Jurisdiction, Level

NOMINATION_SIGNATURES = 3  # R1.5: three or more supervisors
PUBLIC_SUBMISSIONS_PER_HOUR = 5
_OPEN = (ApplicationStatus.COLLECTING, ApplicationStatus.SUBMITTED)


class Decision(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


@dataclass(frozen=True)
class PersonInput:
    """What an applicant or nominator states about the person."""

    name: str
    phone: str
    id_number: str
    category: Category
    unit: str
    industry: str = ""
    gender: Gender | None = None
    birth_year: int | None = None
    is_small_micro: bool = False
    is_npc_deputy: bool = False
    is_cppcc_member: bool = False
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Recommendation:
    """R1.4: the recommending unit (推荐单位) and what it says."""

    unit: str
    contact: str
    text: str


def _statements(statements: dict[str, str], field_name: str) -> dict[str, str]:
    """R1.1: exactly one non-empty statement (or finding) for each condition."""
    if set(statements) != set(rules.CONDITIONS):
        raise InvalidInput("须逐项说明四项条件", "State each of the four conditions",
                           field=field_name)
    return {k: check_text(v, field_name, maximum=1000) for k, v in statements.items()}


async def _person_values(person: PersonInput) -> dict[str, Any]:
    id_number = rules.check_id_number(person.id_number)
    check_coordinates(person.latitude, person.longitude)
    rules.check_birth_year(person.birth_year, clock.today())
    digest = crypto.digest(id_number)
    if await Supervisor.exists(id_number_digest=digest,
                               status__in=[Status.ACTIVE, Status.EXPIRED]):
        raise Conflict("此人已是监督员", "This person is a supervisor already",
                       field="idNumber")
    if await Application.exists(id_number_digest=digest, status__in=list(_OPEN)):
        raise Conflict("此人已有待审申请", "This person has an application under review",
                       field="idNumber")
    return {
        "name": check_text(person.name, "name", maximum=50),
        "phone": check_phone(person.phone),
        "id_number_encrypted": crypto.encrypt(id_number),
        "id_number_masked": rules.mask_id_number(id_number),
        "id_number_digest": digest,
        "gender": person.gender, "birth_year": person.birth_year, "category": person.category,
        "is_small_micro": person.is_small_micro, "is_npc_deputy": person.is_npc_deputy,
        "is_cppcc_member": person.is_cppcc_member,
        "unit": check_text(person.unit, "unit", maximum=200),
        "industry": check_text(person.industry, "industry", maximum=100, required=False),
        "latitude": person.latitude, "longitude": person.longitude,
    }


async def submit_application(
    address: str, *, jurisdiction: str, is_special: bool, person: PersonInput,
    statements: dict[str, str], recommendation: Recommendation,
) -> Application:
    """R1.4 path A: a personal application with the recommending unit's recommendation. Open
    to the public (no account), throttled per address. Ordinary supervisors apply to a
    county-level office; special supervisors (特约) to the city office."""
    home = await jurisdictions.by_path(jurisdiction)
    if home is None:
        raise NotFound("辖区不存在", "No such jurisdiction", field="jurisdiction")
    wanted = {Level.CITY} if is_special else {Level.COUNTY, Level.SPECIAL_DISTRICT}
    if home.level not in wanted:
        raise RuleViolation(
            "特约监督员由市软环境办审核，普通监督员由县级软环境办审核",
            "Special supervisors apply to the city office, others to a county-level office",
            field="jurisdiction")
    values = await _person_values(person)
    async with in_transaction():
        # Accepted submissions count (the hit commits with the application), so that an
        # applicant's typos do not lock them out; the address stays locked until the commit.
        await throttle.reserve([("application.address", address, PUBLIC_SUBMISSIONS_PER_HOUR)],
                               timedelta(hours=1))
        created = await Application.create(
            jurisdiction=home, path=ApplicationPath.APPLICATION,
            status=ApplicationStatus.SUBMITTED, statements=_statements(statements, "statements"),
            recommending_unit=check_text(recommendation.unit, "recommendingUnit",
                                               maximum=200),
            recommending_contact=check_text(recommendation.contact,
                                                  "recommendingContact", maximum=100),
            recommendation=check_text(recommendation.text, "recommendation",
                                            maximum=2000),
            is_special=is_special, submitted_at=clock.now(), **values)
        await audit.record(audit.Actor(None, "public"), "application.submit",
                           target_type="application", target_id=created.id,
                           jurisdiction=home.path, detail={"address": address})
    return created


async def nominate_candidate(principal: Principal, *, person: PersonInput,
                             statements: dict[str, str], reason: str) -> Application:
    """R1.5 path B: an ACTIVE supervisor nominates a person to their own home office; the
    nominator is the first of the three signatures."""
    nominator = await own_supervisor(principal)
    if nominator.status is not Status.ACTIVE:
        raise RuleViolation("只有在任监督员可以联名推荐", "Only active supervisors nominate")
    values = await _person_values(person)
    if values["id_number_digest"] == nominator.id_number_digest:
        raise RuleViolation("不能推荐本人", "You cannot nominate yourself", field="idNumber")
    async with in_transaction():
        created = await Application.create(
            jurisdiction=nominator.jurisdiction, path=ApplicationPath.NOMINATION,
            status=ApplicationStatus.COLLECTING, statements=_statements(statements, "statements"),
            recommendation=check_text(reason, "reason", maximum=2000),
            nominated_by=nominator, is_special=nominator.jurisdiction.level is Level.CITY,
            submitted_at=clock.now(), **values)
        await Endorsement.create(application=created, supervisor=nominator, at=clock.now())
        await audit.record(principal.actor, "nomination.create", target_type="application",
                           target_id=created.id, jurisdiction=nominator.jurisdiction.path)
    return created


async def endorse_nomination(principal: Principal, application_id: int) -> Application:
    """R1.5: co-sign a nomination of one's own home jurisdiction. At the third distinct
    signature it reaches the office. The nominee never signs; nobody signs twice."""
    endorser = await own_supervisor(principal)
    async with in_transaction():
        found = await Application.filter(
            id=application_id, path=ApplicationPath.NOMINATION,
            jurisdiction_id=endorser.jurisdiction.id,
        ).select_for_update().first()
        if found is None:
            raise NotFound("推荐不存在", "No such nomination", field="id")
        if endorser.status is not Status.ACTIVE:
            raise RuleViolation("只有在任监督员可以联名推荐", "Only active supervisors endorse")
        if found.nominated_by_id == endorser.id:
            raise InvalidTransition("推荐人已签名，不能再联署本人的推荐",
                                    "You nominated this person: you cannot endorse it again")
        if found.id_number_digest == endorser.id_number_digest:
            raise RuleViolation("被推荐人不能联署", "The nominee cannot sign")
        if found.status is not ApplicationStatus.COLLECTING:
            raise InvalidTransition("该推荐已不再征集联署", "This nomination is not collecting")
        if await Endorsement.exists(application=found, supervisor=endorser):
            raise Conflict("您已联署", "You have signed already")
        await Endorsement.create(application=found, supervisor=endorser, at=clock.now())
        signatures = await Endorsement.filter(application=found).count()
        if signatures >= NOMINATION_SIGNATURES:
            found.status = ApplicationStatus.SUBMITTED
            await found.save(update_fields=["status"])
        await audit.record(principal.actor, "nomination.endorse", target_type="application",
                           target_id=found.id, jurisdiction=endorser.jurisdiction.path,
                           detail={"signatures": signatures})
    return found


async def open_nominations(principal: Principal) -> list[Application]:
    """Nominations of the caller's home jurisdiction still collecting signatures."""
    me = await own_supervisor(principal)
    return await Application.filter(
        jurisdiction_id=me.jurisdiction.id, status=ApplicationStatus.COLLECTING
    ).order_by("id")


async def list_applications(principal: Principal, status: ApplicationStatus | None,
                            first: int, after: int | None) -> Page[Application]:
    query = Application.filter(await readable(principal, "read", "application"))
    if status is not None:
        query = query.filter(status=status)
    return await keyset(query, first, after)


async def get_application(principal: Principal, application_id: int) -> Application:
    allowed = await readable(principal, "read", "application")
    found = await Application.filter(allowed, id=application_id
                                     ).select_related("jurisdiction").first()
    if found is None:
        raise NotFound("申请不存在", "No such application", field="id")
    return found


async def composition_impact(application: Application) -> tuple[rules.Composition,
                                                                rules.Composition]:
    """What approving would do to the home jurisdiction's composition: (now, after)."""
    now = await counts_for(application.jurisdiction.path)
    return rules.composition(now), rules.composition(with_person(now, application))


@dataclass(frozen=True)
class ReviewResult:
    application: Application
    supervisor: Supervisor | None
    username: str | None
    initial_password: str | None


async def review_application(principal: Principal, application_id: int, decision: Decision,
                             findings: dict[str, str], note: str) -> ReviewResult:
    """R1.4/R1.5: only the home office reviews (the county-level office, or the city office
    for special supervisors), finding on each R1.1 condition. Approval appoints: a
    supervisor with a two-year term (R1.7), a SUPERVISOR account with its grant, and a
    pending provincial filing (R1.6)."""
    application = await get_application(principal, application_id)
    authorize_own_office(principal, "review", "application", application.jurisdiction.path)
    checked = _statements(findings, "findings")
    note = check_text(note, "note", maximum=1000, required=False)
    result = ReviewResult(application, None, None, None)
    async with in_transaction():
        locked = await Application.filter(id=application.id).select_for_update().first()
        assert locked is not None
        if locked.status is not ApplicationStatus.SUBMITTED:
            raise InvalidTransition("该申请不在待审状态", "This application is not awaiting review")
        locked.findings, locked.review_note = checked, note
        locked.reviewed_by, locked.reviewed_at = principal.username, clock.now()
        locked.status = (ApplicationStatus.APPROVED if decision is Decision.APPROVE
                         else ApplicationStatus.REJECTED)
        if decision is Decision.APPROVE:
            result = await _appoint(principal, locked, application.jurisdiction)
            locked.supervisor = result.supervisor
        await locked.save()
        await audit.record(principal.actor, f"application.{decision.value.lower()}",
                           target_type="application", target_id=locked.id,
                           jurisdiction=application.jurisdiction.path)
    if result.supervisor is not None:
        await store.reload()
    return ReviewResult(locked, result.supervisor, result.username, result.initial_password)


async def _appoint(principal: Principal, application: Application, home: Jurisdiction
                   ) -> ReviewResult:
    start, end = rules.term_for(clock.today())
    person = {name: getattr(application, name) for name in (
        "name", "phone", "id_number_encrypted", "id_number_masked", "id_number_digest",
        "gender", "birth_year", "category", "is_small_micro", "is_npc_deputy",
        "is_cppcc_member", "unit", "recommending_unit", "industry", "is_special", "latitude",
        "longitude")}
    supervisor = await Supervisor.create(jurisdiction=home, status=Status.ACTIVE,
                                         term_start=start, term_end=end, **person)
    supervisor.jurisdiction = home
    password = secrets.token_urlsafe(12)
    account = await open_account(
        principal.actor, username=f"sv.{home.code}.{supervisor.id}",
        display_name=application.name, kind=AccountKind.SUPERVISOR, home=home,
        password=password)
    supervisor.account = account
    await supervisor.save(update_fields=["account_id"])
    await grants.add_grant(principal.actor, account, "supervisor", home.path)
    await Filing.create(supervisor=supervisor, term_start=start, term_end=end,
                        requested_at=clock.now())
    await record_event(supervisor, principal.actor, "APPOINTED", to_status=Status.ACTIVE,
                       detail={"application": application.id, "path": application.path.value,
                               "termStart": start.isoformat(), "termEnd": end.isoformat()})
    return ReviewResult(application, supervisor, account.username, password)
