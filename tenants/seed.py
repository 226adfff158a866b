"""The Tonghua tree of DOMAIN.md (fixed path codes), created idempotently."""

from __future__ import annotations

from tenants.models import Jurisdiction, Level

# (path, Chinese name, level), parents before children.
TONGHUA: list[tuple[str, str, Level]] = [
    ("jl", "吉林省", Level.PROVINCE),
    ("jl.th", "通化市", Level.CITY),
    ("jl.th.dc", "东昌区", Level.COUNTY),
    ("jl.th.edj", "二道江区", Level.COUNTY),
    ("jl.th.thx", "通化县", Level.COUNTY),
    ("jl.th.hn", "辉南县", Level.COUNTY),
    ("jl.th.lh", "柳河县", Level.COUNTY),
    ("jl.th.mhk", "梅河口市", Level.COUNTY),
    ("jl.th.ja", "集安市", Level.COUNTY),
    ("jl.th.yy", "通化医药高新区", Level.SPECIAL_DISTRICT),
    ("jl.th.lg", "吉林通化国际内陆港务区", Level.SPECIAL_DISTRICT),
]


async def seed_tree() -> int:
    """Create the missing nodes; returns how many were created (0 on a second run)."""
    created = 0
    for path, name, level in TONGHUA:
        parent_path, _, code = path.rpartition(".")
        parent = await Jurisdiction.get(path=parent_path) if parent_path else None
        _, made = await Jurisdiction.get_or_create(
            path=path, defaults={"code": code, "name": name, "level": level, "parent": parent}
        )
        created += made
    return created
