"""Demo activities, past and upcoming, with attendance recorded for the past ones."""

from __future__ import annotations

import random
from datetime import timedelta

from core import clock
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
from core.roster.models import Status, Supervisor
from tenants.models import Jurisdiction

# (jurisdiction, kind, title, days from today, audience, capacity, topics)
PLAN = [
    ("jl.th.dc", ActivityKind.TRAINING, "2026年度监督员履职培训", -60, Audience.JURISDICTION,
     150, list(Topic)),
    ("jl.th.dc", ActivityKind.INSPECTION, "政务服务大厅作风检查", -20, Audience.OPEN, 10, []),
    ("jl.th.dc", ActivityKind.UNANNOUNCED_VISIT, "涉企收费明察暗访", -10, Audience.OPEN, 6, []),
    ("jl.th.dc", ActivityKind.FORUM, "民营企业座谈会", 7, Audience.OPEN, 20, []),
    ("jl.th.dc", ActivityKind.HEARING, "行政诉讼案件庭审旁听", 14, Audience.OPEN, 8, []),
    ("jl.th.ja", ActivityKind.TRAINING, "新聘监督员岗前培训", -45, Audience.JURISDICTION, 150,
     [Topic.PURPOSE, Topic.CONDITIONS, Topic.PLATFORM_USE]),
    ("jl.th.ja", ActivityKind.RESEARCH, "口岸通关便利化调研", 10, Audience.OPEN, 12, []),
    ("jl.th", ActivityKind.TRAINING, "特约监督员专题培训", -30, Audience.SPECIAL, 20,
     [Topic.DUTIES_AND_DISCIPLINE, Topic.HOW_TO_SUPERVISE]),
]


async def seed_activities() -> int:
    if await Activity.exists():
        return 0
    rnd = random.Random(2022)  # noqa: S311 -- reproducible demo data, not secrets
    now = clock.now()
    for path, kind, title, days, audience, capacity, topics in PLAN:
        place = await Jurisdiction.get(path=path)
        start = (now + timedelta(days=days)).replace(hour=1, minute=30, second=0,
                                                      microsecond=0)
        activity = await Activity.create(
            jurisdiction=place, kind=kind, title=title, place=f"{place.name}政务服务中心",
            start_at=start, end_at=start + timedelta(hours=3), capacity=capacity,
            audience=audience, topics=[t.value for t in topics],
            checkin_code=f"{rnd.randrange(10**6):06d}", organiser=f"admin.{place.code}")
        people = Supervisor.filter(status=Status.ACTIVE, jurisdiction_id=place.id)
        if audience is Audience.SPECIAL:
            people = people.filter(is_special=True)
        members = await people.order_by("id")
        if kind in (ActivityKind.INSPECTION, ActivityKind.UNANNOUNCED_VISIT):
            target = await Agency.filter(jurisdiction_id=place.id).order_by("id").first()
            if target:
                await ActivityTarget.create(activity=activity, agency=target)
        chosen = members if audience is not Audience.OPEN else members[:capacity // 2]
        past = days < 0
        await Participation.bulk_create([Participation(
            activity=activity, supervisor=s,
            status=ParticipationStatus.INVITED if audience is not Audience.OPEN and not past
            else ParticipationStatus.ACCEPTED,
            attendance=rnd.choices(list(Attendance), weights=[85, 10, 5])[0] if past else None,
            checked_in_at=start if past else None,
            recorded_by=f"admin.{place.code}" if past else None) for s in chosen])
    return len(PLAN)
