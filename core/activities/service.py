"""Organising activities, taking part in them, checking in and recording attendance; and the
training duty of R8.1."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from core import audit, clock
from core.activities.models import (
    Activity,
    ActivityKind,
    ActivityTarget,
    Attendance,
    Audience,
    Participation,
    ParticipationStatus,
    Topic,
)
from core.agencies.models import Agency
from core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, RuleViolation
from core.notifications import service as notifications
from core.pagination import Page, keyset
from core.principal import AccountKind, Principal
from core.roster.models import Group, Status, Supervisor
from core.roster.service import own_supervisor
from core.scoring import points
from core.scoring.models import PointEvent
from core.validation import check_text
from policies.access import authorize, can, jurisdiction_in_scope, readable
from tenants.directory import jurisdictions
from tenants.models import Jurisdiction, Level
from tenants.paths import within

CHECKIN_OPENS = timedelta(minutes=30)  # before the start; it closes at the end


@dataclass(frozen=True)
class NewActivity:
    jurisdiction: str
    kind: ActivityKind
    title: str
    start_at: datetime
    end_at: datetime
    capacity: int
    audience: Audience
    place: str = ""
    group_id: int | None = None
    topics: tuple[Topic, ...] = ()
    target_agency_ids: tuple[int, ...] = ()


async def _invitees(place: Jurisdiction, audience: Audience, group_id: int | None
                    ) -> list[Supervisor]:
    active = Supervisor.filter(status=Status.ACTIVE)
    if audience is Audience.JURISDICTION:
        return await active.filter(jurisdiction_id=place.id)
    if audience is Audience.SPECIAL:
        return await active.filter(jurisdiction_id=place.id, is_special=True)
    if audience is Audience.GROUP:
        return await active.filter(group_id=group_id)
    return []


async def create_activity(principal: Principal, new: NewActivity) -> Activity:
    """R7.4 (inspections, visits, research, forums), R8.1 (trainings), R5.3 (hearings): the
    office organises; the audience is invited at once. R8.1: county-level offices train their
    supervisors, the city office its special supervisors."""
    place = await jurisdiction_in_scope(principal, "read", "activity", new.jurisdiction)
    authorize(principal, "organize", "activity", place.path)
    title = check_text(new.title, "title", maximum=200)
    place_text = check_text(new.place, "place", maximum=200, required=False)
    if new.end_at <= new.start_at:
        raise InvalidInput("结束时间须晚于开始时间", "endAt must follow startAt", field="endAt")
    if not 1 <= new.capacity <= 10_000:
        raise InvalidInput("人数上限须为1至10000", "capacity must be 1 to 10000",
                           field="capacity")
    if new.kind is ActivityKind.TRAINING:
        if not new.topics:
            raise InvalidInput("培训须注明内容（R8.1）", "A training needs its R8.1 topics",
                               field="topics")
        if place.level is Level.CITY and new.audience is not Audience.SPECIAL:
            raise RuleViolation("市软环境办培训特约监督员（R8.1）",
                                "The city office trains the special supervisors (R8.1)",
                                field="audience")
        if place.level is not Level.CITY and new.audience is Audience.SPECIAL:
            raise RuleViolation("县级软环境办培训本辖区监督员（R8.1）",
                                "County-level offices train their own supervisors (R8.1)",
                                field="audience")
    elif new.topics:
        raise InvalidInput("只有培训注明培训内容", "Only trainings have topics", field="topics")
    if (new.audience is Audience.GROUP) != (new.group_id is not None):
        raise InvalidInput("按分组邀请须指定分组", "groupId goes with audience GROUP",
                           field="groupId")
    if new.group_id is not None and not await Group.exists(id=new.group_id,
                                                           jurisdiction_id=place.id):
        raise NotFound("分组不存在", "No such group", field="groupId")
    agencies = await Agency.filter(id__in=list(new.target_agency_ids)).select_related(
        "jurisdiction")
    if len(agencies) != len(set(new.target_agency_ids)) or any(
            not within(a.jurisdiction.path, place.path) for a in agencies):
        raise NotFound("部门单位不存在", "No such agency", field="targetAgencies")
    invitees = await _invitees(place, new.audience, new.group_id)
    async with in_transaction():
        activity = await Activity.create(
            jurisdiction=place, kind=new.kind, title=title, place=place_text,
            start_at=new.start_at, end_at=new.end_at, capacity=new.capacity,
            audience=new.audience, group_id=new.group_id, topics=[t.value for t in new.topics],
            checkin_code=f"{secrets.randbelow(10**6):06d}", organiser=principal.username)
        await ActivityTarget.bulk_create([ActivityTarget(activity=activity, agency=a)
                                          for a in agencies])
        await Participation.bulk_create([
            Participation(activity=activity, supervisor=s, status=ParticipationStatus.INVITED)
            for s in invitees])
        await notifications.notify(
            [s.account_id for s in invitees if s.account_id],
            "activity", activity.id, "INVITED", f"邀请您参加：{title}")
        await audit.record(principal.actor, "activity.create", target_type="activity",
                           target_id=activity.id, jurisdiction=place.path,
                           detail={"kind": new.kind.value, "invited": len(invitees)})
    activity.jurisdiction = place
    return activity


async def _visible(principal: Principal) -> Q:
    """Offices their scope; a supervisor the activities they take part in and the open ones
    of their home jurisdiction; an agency those of its jurisdiction, never an unannounced
    visit."""
    condition = await readable(principal, "read", "activity")
    if principal.kind is AccountKind.AGENCY:
        return condition & ~Q(kind=ActivityKind.UNANNOUNCED_VISIT)
    if principal.kind is AccountKind.SUPERVISOR:
        me = await Supervisor.filter(account_id=principal.account_id).only(
            "id", "jurisdiction_id").first()
        if me is not None:
            mine = Participation.filter(supervisor_id=me.id).values("activity_id")
            condition |= Q(id__in=Subquery(mine))
            condition |= Q(audience=Audience.OPEN, jurisdiction_id=me.jurisdiction_id)
    return condition


@dataclass(frozen=True)
class ActivityFilter:
    jurisdiction: str | None = None
    kind: ActivityKind | None = None
    start_from: datetime | None = None
    start_to: datetime | None = None
    mine: bool = False


async def list_activities(principal: Principal, flt: ActivityFilter, first: int,
                          after: int | None) -> Page[Activity]:
    condition = await _visible(principal)
    if flt.jurisdiction is not None:
        place = await jurisdictions.by_path(flt.jurisdiction)
        if place is None:
            raise NotFound("辖区不存在", "No such jurisdiction", field="jurisdiction")
        condition &= Q(jurisdiction_id=place.id)
    if flt.kind is not None:
        condition &= Q(kind=flt.kind)
    if flt.start_from is not None:
        condition &= Q(start_at__gte=flt.start_from)
    if flt.start_to is not None:
        condition &= Q(start_at__lt=flt.start_to)
    if flt.mine:
        me = await Supervisor.filter(account_id=principal.account_id).only("id").first()
        condition &= Q(participants__supervisor_id=me.id if me else 0)
    return await keyset(Activity.filter(condition).distinct().select_related("jurisdiction"),
                        first, after)


async def get_activity(principal: Principal, activity_id: int) -> Activity:
    found = await Activity.filter(await _visible(principal), id=activity_id).select_related(
        "jurisdiction").first()
    if found is None:
        raise NotFound("活动不存在", "No such activity", field="id")
    return found


def is_organiser(principal: Principal, activity: Activity) -> bool:
    """The organising office (activity:organize at its jurisdiction) sees the check-in code
    and the participants."""
    return can(principal, "organize", "activity", activity.jurisdiction.path)


async def participants(principal: Principal, activity: Activity) -> list[Participation] | None:
    """Who takes part and how they attended, for the organising office only (None else)."""
    if not is_organiser(principal, activity):
        return None
    return await Participation.filter(activity=activity).select_related("supervisor"
                                                                         ).order_by("id")


async def my_participation(principal: Principal, activity: Activity) -> Participation | None:
    return await Participation.filter(activity=activity,
                                      supervisor__account_id=principal.account_id).first()


async def target_agencies(principal: Principal, activity: Activity) -> list[Agency] | None:
    """R7.4: the agencies an inspection or visit looks at, never shown to an agency (None:
    an inspected agency learns neither that it is a target nor which others are; agencies
    never see an unannounced visit at all, see _visible)."""
    if principal.kind is AccountKind.AGENCY:
        return None
    return await Agency.filter(activity_targets__activity_id=activity.id).order_by("id")


async def _organised(principal: Principal, activity_id: int) -> Activity:
    activity = await get_activity(principal, activity_id)
    authorize(principal, "organize", "activity", activity.jurisdiction.path)
    return activity


async def _seats_taken(activity: Activity) -> int:
    return await Participation.filter(activity=activity,
                                      status=ParticipationStatus.ACCEPTED).count()


async def _seat(activity: Activity, participation: Participation) -> None:
    """Give a seat within capacity. R5.3: at a hearing a supervisor is seated before anyone
    else, so a guest gives up their seat when the hearing is full."""
    locked = await Activity.filter(id=activity.id).select_for_update(no_key=True).first()
    assert locked is not None
    taken = await _seats_taken(locked)
    if taken + locked.guests >= locked.capacity:
        if locked.kind is ActivityKind.HEARING and locked.guests > 0:
            locked.guests -= 1
            await locked.save(update_fields=["guests"])
        else:
            raise RuleViolation("名额已满", "The activity is full")
    participation.status = ParticipationStatus.ACCEPTED
    await participation.save(update_fields=["status", "updated_at"])


async def apply(principal: Principal, activity_id: int) -> Participation:
    """R3.5, R5.3: a supervisor applies to join research, forums, evaluations, inspections and the
    like; at a hearing the seat is given at once while any remains (priority)."""
    me = await own_supervisor(principal)
    if me.status is not Status.ACTIVE:
        raise RuleViolation("只有在任监督员可以报名", "Only active supervisors apply")
    activity = await get_activity(principal, activity_id)
    if activity.end_at <= clock.now():
        raise InvalidTransition("活动已结束", "The activity is over")
    async with in_transaction():
        # Applications to one activity one after another: the seat count and the check for
        # an earlier application see every application committed before. NO KEY: the lock
        # does not wait for the participations' foreign-key locks (which had deadlocked ten
        # applicants to one hearing).
        await Activity.filter(id=activity.id).select_for_update(no_key=True).first()
        if await Participation.exists(activity=activity, supervisor=me):
            raise Conflict("已报名或已受邀", "Already applied or invited")
        participation = await Participation.create(activity=activity, supervisor=me,
                                                    status=ParticipationStatus.APPLIED)
        if activity.kind is ActivityKind.HEARING:
            await _seat(activity, participation)
        await audit.record(principal.actor, "activity.apply", target_type="activity",
                           target_id=activity.id, jurisdiction=activity.jurisdiction.path)
    return participation


async def respond(principal: Principal, activity_id: int, accept: bool) -> Participation:
    """A supervisor accepts (within capacity) or declines an invitation."""
    me = await own_supervisor(principal)
    activity = await get_activity(principal, activity_id)
    async with in_transaction():
        found = await Participation.filter(activity=activity, supervisor=me).select_for_update(
            ).first()
        if found is None or found.status is not ParticipationStatus.INVITED:
            raise InvalidTransition("没有待答复的邀请", "No invitation to answer")
        if accept:
            await _seat(activity, found)
        else:
            found.status = ParticipationStatus.DECLINED
            await found.save(update_fields=["status", "updated_at"])
    return found


async def decide_application(principal: Principal, activity_id: int, supervisor_id: int,
                             accept: bool) -> Participation:
    """The office accepts an application within capacity, or declines it."""
    activity = await _organised(principal, activity_id)
    async with in_transaction():
        found = await Participation.filter(activity=activity, supervisor_id=supervisor_id
                                           ).select_for_update().first()
        if found is None:
            raise NotFound("报名不存在", "No such application", field="supervisorId")
        if found.status is not ParticipationStatus.APPLIED:
            raise InvalidTransition("该报名已处理", "This application has been decided")
        if accept:
            await _seat(activity, found)
        else:
            found.status = ParticipationStatus.DECLINED
            await found.save(update_fields=["status", "updated_at"])
        await audit.record(principal.actor, "activity.decide", target_type="activity",
                           target_id=activity.id, jurisdiction=activity.jurisdiction.path,
                           detail={"supervisor": supervisor_id, "accepted": accept})
    return found


async def admit_guests(principal: Principal, activity_id: int, count: int) -> Activity:
    """Hearing seats for others than supervisors, only from seats supervisors do not hold."""
    activity = await _organised(principal, activity_id)
    if activity.kind is not ActivityKind.HEARING:
        raise InvalidInput("只有庭审听证可安排其他旁听人员", "Guests are for hearings",
                           field="activityId")
    if count < 0:
        raise InvalidInput("人数不能为负", "count must not be negative", field="count")
    async with in_transaction():
        locked = await Activity.filter(id=activity.id).select_for_update().first()
        assert locked is not None
        if await _seats_taken(locked) + count > locked.capacity:
            raise RuleViolation("余座不足", "Not enough free seats", field="count")
        locked.guests = count
        await locked.save(update_fields=["guests"])
    locked.jurisdiction = activity.jurisdiction
    return locked


async def check_in(principal: Principal, activity_id: int, code: str) -> Participation:
    """A supervisor checks in with the activity's code, inside its time window."""
    me = await own_supervisor(principal)
    activity = await get_activity(principal, activity_id)
    now = clock.now()
    if not activity.start_at - CHECKIN_OPENS <= now <= activity.end_at:
        raise RuleViolation("不在签到时间内", "Check-in is closed now")
    if not secrets.compare_digest(code.strip(), activity.checkin_code):
        raise InvalidInput("签到码错误", "Wrong check-in code", field="code")
    return await _attend(principal, activity, me.id, Attendance.ATTENDED)


async def record_attendance(principal: Principal, activity_id: int, supervisor_id: int,
                            attendance: Attendance) -> Participation:
    """The office checks a supervisor in, or records them excused or absent."""
    activity = await _organised(principal, activity_id)
    return await _attend(principal, activity, supervisor_id, attendance)


async def _attend(principal: Principal, activity: Activity, supervisor_id: int,
                  attendance: Attendance) -> Participation:
    async with in_transaction():
        found = await Participation.filter(activity=activity, supervisor_id=supervisor_id
                                           ).select_for_update().first()
        if found is None or found.status is not ParticipationStatus.ACCEPTED:
            raise InvalidTransition("未确认参加该活动", "Not a confirmed participant")
        found.attendance, found.recorded_by = attendance, principal.username
        if attendance is Attendance.ATTENDED:
            found.checked_in_at = clock.now()
            await points.award(supervisor_id, PointEvent.ACTIVITY_ATTENDED,
                               f"activity:{activity.id}:{supervisor_id}")
            if activity.kind is ActivityKind.TRAINING:
                await points.award(supervisor_id, PointEvent.TRAINING_COMPLETED,
                                   f"training:{activity.id}:{supervisor_id}")
        await found.save()
        await audit.record(principal.actor, "activity.attendance", target_type="activity",
                           target_id=activity.id, jurisdiction=activity.jurisdiction.path,
                           detail={"supervisor": supervisor_id, "attendance": attendance.value})
    return found


async def close_attendance(principal: Principal, activity_id: int) -> int:
    """After the end, confirmed participants without a record are absent."""
    activity = await _organised(principal, activity_id)
    if activity.end_at > clock.now():
        raise InvalidTransition("活动尚未结束", "The activity has not ended")
    async with in_transaction():
        count = await Participation.filter(activity=activity, status=ParticipationStatus.ACCEPTED,
                                           attendance__isnull=True).update(
            attendance=Attendance.ABSENT, recorded_by=principal.username)
        await audit.record(principal.actor, "activity.close_attendance",
                           target_type="activity", target_id=activity.id,
                           jurisdiction=activity.jurisdiction.path, detail={"absent": count})
    return count


@dataclass(frozen=True)
class TopicGap:
    topic: Topic
    missing: list[Supervisor]


async def training_status(principal: Principal, jurisdiction: str) -> list[TopicGap]:
    """R8.1: for each required topic, the active supervisors of the jurisdiction (for the city,
    its special supervisors) who have not attended a training covering it. Two queries."""
    place = await jurisdiction_in_scope(principal, "read", "supervisor", jurisdiction)
    people = Supervisor.filter(status=Status.ACTIVE, jurisdiction_id=place.id)
    if place.level is Level.CITY:
        people = people.filter(is_special=True)
    roster = await people.order_by("id")
    attended = await Participation.filter(
        supervisor_id__in=[s.id for s in roster], attendance=Attendance.ATTENDED,
        activity__kind=ActivityKind.TRAINING).select_related("activity")
    covered: dict[int, set[str]] = {}
    for p in attended:
        covered.setdefault(p.supervisor_id, set()).update(p.activity.topics)
    return [TopicGap(topic, [s for s in roster if topic.value not in covered.get(s.id, set())])
            for topic in Topic]
