"""The Tonghua tree of DOMAIN.md (fixed path codes), created idempotently."""

from __future__ import annotations

from tenants.models import Jurisdiction, Level

# (path, Chinese name, level, seat latitude, seat longitude), parents before children.
TONGHUA: list[tuple[str, str, Level, float, float]] = [
    ("jl", "吉林省", Level.PROVINCE, 43.8171, 125.3235),
    ("jl.th", "通化市", Level.CITY, 41.7283, 125.9397),
    ("jl.th.dc", "东昌区", Level.COUNTY, 41.7285, 125.9555),
    ("jl.th.edj", "二道江区", Level.COUNTY, 41.7742, 126.0428),
    ("jl.th.thx", "通化县", Level.COUNTY, 41.6796, 125.7593),
    ("jl.th.hn", "辉南县", Level.COUNTY, 42.6847, 126.0466),
    ("jl.th.lh", "柳河县", Level.COUNTY, 42.2846, 125.7446),
    ("jl.th.mhk", "梅河口市", Level.COUNTY, 42.5393, 125.7100),
    ("jl.th.ja", "集安市", Level.COUNTY, 41.1256, 126.1941),
    ("jl.th.yy", "通化医药高新区", Level.SPECIAL_DISTRICT, 41.6955, 125.9921),
    ("jl.th.lg", "吉林通化国际内陆港务区", Level.SPECIAL_DISTRICT, 41.7610, 125.8780),
]


async def seed_tree() -> int:
    """Create the missing nodes; returns how many were created (0 on a second run)."""
    created = 0
    for path, name, level, latitude, longitude in TONGHUA:
        parent_path, _, code = path.rpartition(".")
        parent = await Jurisdiction.get(path=parent_path) if parent_path else None
        _, made = await Jurisdiction.get_or_create(
            path=path, defaults={"code": code, "name": name, "level": level, "parent": parent,
                                 "latitude": latitude, "longitude": longitude})
        created += made
    return created
