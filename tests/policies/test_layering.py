"""Authorization in one place: every read of a tenant's rows starts from policies'
readable predicate (`policies.access.readable`), so no tenant filter is written by hand in the
services or the schema. The exceptions are named with their reason."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A tenant filter built by hand: an `…jurisdiction_id__in` lookup or the scope's ids taken out.
HAND_MADE = re.compile(r"jurisdiction_id__in|\.jurisdiction_ids\(\)")
ALLOWED = {
    # the demo seed runs as the system, on no one's behalf
    "core/agencies/demo.py": 2,
}


def test_no_tenant_filter_is_written_outside_policies_and_tenants() -> None:
    found: dict[str, int] = {}
    for path in sorted([*ROOT.glob("core/**/*.py"), *ROOT.glob("schema/**/*.py"),
                        *ROOT.glob("web/**/*.py")]):
        hits = len(HAND_MADE.findall(path.read_text(encoding="utf-8")))
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    assert found == ALLOWED, found
