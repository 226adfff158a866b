"""The roster's demo data: two full county rosters (Dongchang meets R1.3's small/micro share,
Ji'an deliberately falls short), a dozen special supervisors at the city, pending
applications and a nomination, filed terms with certificates, expired terms, a dismissal.

Demo supervisors sign in as `sv.<code>.<nnn>` (`sv.dc.001` … `sv.dc.116`, `sv.ja.001` …
`sv.ja.104`, `sv.th.001` … `sv.th.012`) with the demo password. Deterministic (seeded)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from stdnum.cn import ric, uscc

from core import audit, clock, crypto
from core.accounts.models import Account
from core.principal import AccountKind
from core.roster import rules
from core.roster.filing import sign_certificate
from core.roster.models import (
    Application,
    ApplicationPath,
    ApplicationStatus,
    Category,
    ContactFirm,
    Endorsement,
    Filing,
    FirmSize,
    Gender,
    Group,
    Status,
    Supervisor,
    SupervisorEvent,
)
from policies.models import Grant
from tenants.models import Jurisdiction

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
         "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "海燕", "春梅"]
FIRM_WORDS = ["长白山", "鸭绿江", "通化", "东昌", "金厂", "江源", "佟佳江", "玉皇山", "龙泉",
              "集安", "青石", "太王"]
FIRM_KINDS = ["药业有限公司", "食品有限公司", "商贸有限公司", "建材有限公司", "物流有限公司",
              "葡萄酒业有限公司", "人参制品有限公司", "机械制造有限公司", "餐饮服务部",
              "农业合作社"]
INDUSTRIES = ["医药", "食品", "商贸", "建筑", "物流", "酿酒", "人参", "制造", "餐饮", "农业"]


@dataclass(frozen=True)
class RosterPlan:
    """How one jurisdiction's demo roster is composed."""

    path: str
    region: str            # the first six digits of local ID numbers
    centre: tuple[float, float]
    by_category: dict[Category, int]
    small_micro: int
    npc: int
    cppcc: int
    expired: int = 0
    dismissed: int = 0
    filed: int = 0
    special: bool = False


PLANS = [
    RosterPlan("jl.th.dc", "220502", (41.728, 125.940),
               {Category.ENTERPRISE: 77, Category.ASSOCIATION: 16, Category.MEDIA: 6,
                Category.PUBLIC_FIGURE: 6, Category.GRASSROOTS: 5},
               small_micro=60, npc=4, cppcc=5, expired=5, dismissed=1, filed=20),
    # Ji'an falls short of R1.3's small/micro half on purpose (45 of 104).
    RosterPlan("jl.th.ja", "220582", (41.126, 126.194),
               {Category.ENTERPRISE: 73, Category.ASSOCIATION: 16, Category.MEDIA: 5,
                Category.PUBLIC_FIGURE: 5, Category.GRASSROOTS: 5},
               small_micro=45, npc=3, cppcc=4, filed=10),
    RosterPlan("jl.th", "220501", (41.735, 125.930),
               {Category.ENTERPRISE: 8, Category.ASSOCIATION: 2, Category.MEDIA: 1,
                Category.PUBLIC_FIGURE: 1},
               small_micro=4, npc=2, cppcc=2, filed=6, special=True),
]


def _id_number(rnd: random.Random, region: str) -> str:
    born = date(1960, 1, 1) + timedelta(days=rnd.randrange(365 * 40))
    stem = f"{region}{born:%Y%m%d}{rnd.randrange(1000):03d}"
    return stem + ric.calc_check_digit(stem + "0")


def _credit_code(rnd: random.Random) -> str:
    stem = "9122" + "".join(rnd.choice("0123456789") for _ in range(2)) + "".join(
        rnd.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(11))
    return stem + uscc.calc_check_digit(stem)


def _name(rnd: random.Random) -> str:
    return rnd.choice(SURNAMES) + rnd.choice(GIVEN)


def _firm(rnd: random.Random) -> str:
    return rnd.choice(FIRM_WORDS) + rnd.choice(FIRM_KINDS)


def _person(rnd: random.Random, plan: RosterPlan, category: Category, small_micro: bool
            ) -> dict[str, Any]:
    number = _id_number(rnd, plan.region)
    lat, lon = plan.centre
    return {
        "name": _name(rnd), "phone": f"139{rnd.randrange(10**8):08d}",
        "id_number_encrypted": crypto.encrypt(number),
        "id_number_masked": rules.mask_id_number(number),
        "id_number_digest": crypto.digest(number),
        "gender": rnd.choice([Gender.MALE, Gender.FEMALE]),
        "birth_year": int(number[6:10]), "category": category,
        "is_small_micro": small_micro, "unit": _firm(rnd),
        "recommending_unit": _firm(rnd) if category is Category.ENTERPRISE else "通化市工商联",
        "industry": rnd.choice(INDUSTRIES), "is_special": plan.special,
        "latitude": round(lat + rnd.uniform(-0.05, 0.05), 6),
        "longitude": round(lon + rnd.uniform(-0.05, 0.05), 6),
    }


async def seed_roster(password_hash: str) -> int:
    """Create the demo rosters unless they exist; returns how many supervisors were made."""
    if await Supervisor.exists():
        return 0
    rnd = random.Random(2020)  # noqa: S311 -- reproducible demo data, not secrets
    made = 0
    for plan in PLANS:
        made += await _seed_plan(rnd, plan, password_hash)
    await _seed_applications(rnd)
    await audit.record(audit.SYSTEM, "demo.seed_roster", detail={"supervisors": made})
    return made


async def _seed_plan(rnd: random.Random, plan: RosterPlan, password_hash: str) -> int:
    place = await Jurisdiction.get(path=plan.path)
    categories = [c for c, n in plan.by_category.items() for _ in range(n)]
    extra = plan.expired + plan.dismissed
    categories += [Category.ENTERPRISE] * extra
    total = len(categories)
    usernames = [f"sv.{place.code}.{i + 1:03d}" for i in range(total)]
    today = clock.today()
    planned: list[dict[str, Any]] = []
    enterprise_seen = 0
    for i, category in enumerate(categories):
        active = i < total - extra
        small = category is Category.ENTERPRISE and active and enterprise_seen < plan.small_micro
        enterprise_seen += category is Category.ENTERPRISE and active
        start = today - timedelta(days=rnd.randrange(30, 700))
        if not active:
            start = today - timedelta(days=800)
        start, end = rules.term_for(start)
        person = _person(rnd, plan, category, small)
        person.update(is_npc_deputy=i < plan.npc, is_cppcc_member=plan.npc <= i < plan.npc +
                      plan.cppcc)
        status = Status.ACTIVE
        if not active:
            status = Status.EXPIRED if i < total - plan.dismissed else Status.DISMISSED
        planned.append({"status": status, "term_start": start, "term_end": end, **person})
    # Accounts carry the person's name and are closed for the dismissed, from the start.
    await Account.bulk_create([
        Account(username=u, display_name=p["name"], kind=AccountKind.SUPERVISOR, home=place,
                password_hash=password_hash, is_active=p["status"] is not Status.DISMISSED)
        for u, p in zip(usernames, planned, strict=True)])
    accounts = {a.username: a for a in await Account.filter(username__in=usernames)}
    await Grant.bulk_create([Grant(account=accounts[u], role="supervisor", domain=plan.path)
                             for u in usernames])
    await Supervisor.bulk_create([Supervisor(jurisdiction=place, account=accounts[u], **p)
                                  for u, p in zip(usernames, planned, strict=True)])
    supervisors = await Supervisor.filter(jurisdiction=place).order_by("id")
    await _history_and_filings(rnd, plan, place, supervisors)
    return len(supervisors)


async def _history_and_filings(rnd: random.Random, plan: RosterPlan, place: Jurisdiction,
                               supervisors: list[Supervisor]) -> None:
    now = clock.now()
    events, filings, firms = [], [], []
    groups = [await Group.create(jurisdiction=place, name=f"{industry}行业组", industry=industry)
              for industry in ("医药", "商贸", "制造")] if not plan.special else []
    for n, s in enumerate(supervisors):
        events.append(SupervisorEvent(supervisor=s, kind="APPOINTED", at=now, actor="system",
                                      to_status=Status.ACTIVE.value, detail={"demo": True}))
        if s.status is Status.EXPIRED:
            events.append(SupervisorEvent(supervisor=s, kind="EXPIRED", at=now, actor="system",
                                          from_status="ACTIVE", to_status="EXPIRED"))
        if s.status is Status.DISMISSED:
            events.append(SupervisorEvent(supervisor=s, kind="RESIGNATION_REQUESTED", at=now,
                                          actor=f"sv.{place.code}", note="工作调动"))
            events.append(SupervisorEvent(supervisor=s, kind="UNIT_CONSENTED", at=now,
                                          actor="system", note="推荐单位同意"))
            events.append(SupervisorEvent(supervisor=s, kind="DISMISSED", at=now,
                                          actor="system", from_status="ACTIVE",
                                          to_status="DISMISSED",
                                          detail={"reason": "RESIGNATION"}))
        filed = n < plan.filed
        number = f"JL{place.code.upper()}{n + 1:05d}"
        filings.append(Filing(
            supervisor=s, term_start=s.term_start, term_end=s.term_end, requested_at=now,
            filing_number=f"JLBA-{number}" if filed else None,
            certificate_number=number if filed else None,
            certificate_token=sign_certificate(number, s.name, place, s.term_start, s.term_end)
            if filed else None, filed_at=now if filed else None,
            filed_by="province" if filed else None,
            revoked_at=now if s.status is Status.DISMISSED else None))
        if s.status is Status.ACTIVE and rnd.random() < 0.85:
            firms.append(ContactFirm(supervisor=s, name=_firm(rnd), credit_code=_credit_code(rnd),
                                     industry=rnd.choice(INDUSTRIES),
                                     size=rnd.choice(list(FirmSize)), linked_at=now))
        if groups and s.status is Status.ACTIVE and n % 3 == 0:
            s.group = groups[n % len(groups)]
            await s.save(update_fields=["group_id"])
    await SupervisorEvent.bulk_create(events)
    await Filing.bulk_create(filings)
    await ContactFirm.bulk_create(firms)


async def _seed_applications(rnd: random.Random) -> None:
    now = clock.now()
    statements = {c: "本人自愿参加，熟悉相关政策，愿意监督、敢于直言。" for c in rules.CONDITIONS}
    dc = await Jurisdiction.get(path="jl.th.dc")
    city = await Jurisdiction.get(path="jl.th")
    dc_plan, city_plan = PLANS[0], PLANS[2]
    for place, plan, special in ((dc, dc_plan, False), (dc, dc_plan, False),
                                 (city, city_plan, True)):
        await Application.create(
            jurisdiction=place, path=ApplicationPath.APPLICATION,
            status=ApplicationStatus.SUBMITTED, statements=statements,
            recommending_contact="办公室 0435-3212345",
            recommendation="该同志工作认真，推荐担任监督员。",
            submitted_at=now, **_person(rnd, plan, Category.ENTERPRISE, True) | {
                "is_special": special})
    signers = await Supervisor.filter(jurisdiction=dc, status=Status.ACTIVE).order_by("id"
                                                                                      ).limit(2)
    nomination = await Application.create(
        jurisdiction=dc, path=ApplicationPath.NOMINATION, status=ApplicationStatus.COLLECTING,
        statements=statements, recommendation="联名推荐：长期关注营商环境，热心公益。",
        nominated_by=signers[0], submitted_at=now,
        **_person(rnd, dc_plan, Category.GRASSROOTS, False))
    await Endorsement.bulk_create([Endorsement(application=nomination, supervisor=s, at=now)
                                   for s in signers])
