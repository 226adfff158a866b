"""The demo data of `python -m core seed-demo`: the Tonghua tree, office accounts with their
grants, and the province's service account. Idempotent: a second run changes nothing."""

from __future__ import annotations

import logging

from core import auth
from core.accounts import grants
from core.accounts import service as accounts
from core.accounts.models import Account, ApiKey
from core.activities.demo import seed_activities
from core.agencies.demo import seed_agencies
from core.assistance.demo import seed_assistance
from core.cases.demo import seed_cases
from core.config import settings
from core.principal import AccountKind
from core.roster.demo import seed_roster
from policies.enforcer import store
from policies.models import Grant
from tenants.seed import TONGHUA, seed_tree

log = logging.getLogger(__name__)
CITY = "jl.th"


# (username, display name, home, [(role, domain)])
def demo_offices() -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    offices = [("admin.th", "通化市软环境办", CITY,
                [("office_admin", CITY), ("overseer", f"{CITY}.**")])]
    for path, name, *_ in TONGHUA:
        if path.startswith(CITY + "."):
            code = path.rsplit(".", 1)[1]
            offices.append((f"admin.{code}", f"{name}软环境办", path,
                            [("office_admin", path), ("oversight_reader", f"{CITY}.**")]))
    return offices


async def seed_demo(*, roster: bool = True, cases: bool = True) -> dict[str, int]:
    """Create what is missing; returns counts of what was created. `roster` False leaves out
    supervisors, agencies and cases, `cases` False the agencies and cases (tests that do not
    need them start faster)."""
    created = {"jurisdictions": await seed_tree(), "accounts": 0, "grants": 0, "api_keys": 0,
               "supervisors": 0, "agencies": 0, "cases": 0, "activities": 0, "assistance": 0}
    password_hash = await _demo_password_hash()
    for username, display, home, roles in demo_offices():
        if not await Account.exists(username=username):
            await accounts.create_account(None, username=username, display_name=display,
                                          kind=AccountKind.STAFF, home_path=home,
                                          password=None, prehashed=password_hash)
            created["accounts"] += 1
        for role, domain in roles:
            created["grants"] += await _ensure_grant(username, role, domain)
    if not await Account.exists(username="province"):
        await accounts.create_account(None, username="province", display_name="吉林省软环境办",
                                      kind=AccountKind.SERVICE, home_path="jl", password=None)
        created["accounts"] += 1
    created["grants"] += await _ensure_grant("province", "province_integrator", "jl.**")
    created["api_keys"] += await _ensure_province_key()
    if roster:
        created["supervisors"] = await seed_roster(password_hash)
    if roster and cases:
        created["agencies"] = await seed_agencies(CITY, password_hash)
        created["cases"] = await seed_cases(CITY)
        created["activities"] = await seed_activities()
        created["assistance"] = await seed_assistance()
    await store.reload()
    return created


async def _demo_password_hash() -> str:
    """One argon2 hash of the demo password for every demo account (it is public anyway),
    reused from an existing demo account so that a second run hashes nothing."""
    existing = await Account.filter(username="admin.th").only("password_hash").first()
    if existing and existing.password_hash:
        return existing.password_hash
    return await auth.hash_password(settings().demo_password)


async def _ensure_grant(username: str, role: str, domain: str) -> int:
    if await Grant.exists(account__username=username, role=role, domain=domain):
        return 0
    await grants.grant_role(None, username, role, domain)
    return 1


async def _ensure_province_key() -> int:
    """Keep .data/province.key holding a live key; make one only when it does not."""
    path = settings().data_dir / "province.key"
    if path.exists():
        key = path.read_text().strip()
        prefix = auth.api_key_prefix(key)
        if prefix and await ApiKey.exists(prefix=prefix, revoked_at__isnull=True,
                                          account__username="province"):
            return 0
    _, key = await accounts.create_api_key(None, "province", "demo")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n")
    path.chmod(0o600)
    log.info("province API key written to %s", path)
    return 1
