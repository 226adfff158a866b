"""Demo agencies: ten real kinds of department in the city and in each of its county-level
units and districts, each with an AGENCY account `ag.<jurisdiction code>.<agency code>`
(`ag.dc.scjg`, `ag.th.sw`, …) signing in with the demo password."""

from __future__ import annotations

from core.accounts.models import Account
from core.agencies.models import Agency, AgencyStaff
from core.principal import AccountKind
from policies.models import Grant
from tenants.models import Jurisdiction

AGENCY_KINDS = [
    ("scjg", "市场监督管理局"), ("sw", "税务局"), ("zrzy", "自然资源局"),
    ("zjj", "住房和城乡建设局"), ("rsj", "人力资源和社会保障局"), ("sthj", "生态环境局"),
    ("yjgl", "应急管理局"), ("gaj", "公安局行政审批窗口"), ("zwfw", "政务服务中心"),
    ("fgw", "发展和改革局"),
]


async def seed_agencies(city: str, password_hash: str) -> int:
    """Create the demo agencies of the city unless it has some; returns how many."""
    places = await Jurisdiction.filter(path__startswith=city).order_by("path")
    places = [p for p in places if p.path == city or p.path.startswith(city + ".")]
    if await Agency.filter(jurisdiction_id__in=[p.id for p in places]).exists():
        return 0
    await Agency.bulk_create([Agency(jurisdiction=p, name=f"{p.name}{name}", code=code)
                              for p in places for code, name in AGENCY_KINDS])
    agencies = await Agency.filter(jurisdiction_id__in=[p.id for p in places]).select_related(
        "jurisdiction")
    usernames = {a.id: f"ag.{a.jurisdiction.code}.{a.code}" for a in agencies}
    await Account.bulk_create([
        Account(username=usernames[a.id], display_name=a.name, kind=AccountKind.AGENCY,
                home=a.jurisdiction, password_hash=password_hash) for a in agencies])
    accounts = {a.username: a for a in await Account.filter(username__in=list(
        usernames.values()))}
    await AgencyStaff.bulk_create([AgencyStaff(account=accounts[usernames[a.id]], agency=a)
                                   for a in agencies])
    await Grant.bulk_create([Grant(account=accounts[usernames[a.id]], role="agency_staff",
                                   domain=a.jurisdiction.path) for a in agencies])
    return len(agencies)
