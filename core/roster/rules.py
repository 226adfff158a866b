"""Pure rules of the roster: terms, composition, renewal order and input checks. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from core.errors import InvalidInput
from core.roster.models import Category

TERM_YEARS = 2          # R1.7
MINIMUM_ACTIVE = 100    # R1.2
SMALL_MICRO_MINIMUM = 0.50  # R1.3: small and micro enterprise representatives at least half
# R1.3: the "about" targets of each category, as shares of active supervisors.
CATEGORY_TARGETS: dict[Category, float] = {
    Category.ENTERPRISE: 0.70,
    Category.ASSOCIATION: 0.15,
    Category.MEDIA: 0.05,
    Category.PUBLIC_FIGURE: 0.05,
    Category.GRASSROOTS: 0.05,
}
# "About" a target: a share is short when it falls more than 10% of the target (at least two
# percentage points) below it. Being above a target is not a shortfall.
TOLERANCE_RELATIVE = 0.10
TOLERANCE_MIN_POINTS = 0.02

class Condition(StrEnum):
    """R1.1: the four conditions; an application states each, the reviewer finds on each."""

    VOLUNTEERS = "VOLUNTEERS"              # cares about the business environment, volunteers
    INTEGRITY = "INTEGRITY"                # upright, honest, law-abiding
    POLICY_KNOWLEDGE = "POLICY_KNOWLEDGE"  # knows the relevant policies
    WILLING_TO_SPEAK = "WILLING_TO_SPEAK"  # willing to supervise and speak up


CONDITIONS = tuple(c.value for c in Condition)


def term_for(start: date) -> tuple[date, date]:
    """R1.7: a term runs two years from its first day (the end is the day before the same
    date two years later; 29 February starts end on 28 February)."""
    try:
        anniversary = start.replace(year=start.year + TERM_YEARS)
    except ValueError:  # 29 February
        anniversary = start.replace(year=start.year + TERM_YEARS, day=28) + timedelta(days=1)
    return start, anniversary - timedelta(days=1)


def renewal_term(current_end: date, today: date) -> tuple[date, date]:
    """R2.1: a renewed term follows the current one without a gap, or starts today if the
    old one has already ended."""
    return term_for(max(current_end + timedelta(days=1), today))


@dataclass(frozen=True)
class Counts:
    """Active supervisors of a roster, by the groups R1.2 and R1.3 measure."""

    active: int = 0
    by_category: dict[Category, int] = field(default_factory=dict)
    small_micro: int = 0
    npc_deputies: int = 0
    cppcc_members: int = 0

    def plus(self, other: Counts) -> Counts:
        return Counts(
            self.active + other.active,
            {c: self.by_category.get(c, 0) + other.by_category.get(c, 0)
             for c in Category},
            self.small_micro + other.small_micro,
            self.npc_deputies + other.npc_deputies,
            self.cppcc_members + other.cppcc_members,
        )


@dataclass(frozen=True)
class CategoryShare:
    category: Category
    count: int
    share: float
    target: float
    short: bool


@dataclass(frozen=True)
class Composition:
    active: int
    meets_minimum: bool
    categories: list[CategoryShare]
    small_micro: int
    small_micro_share: float
    small_micro_met: bool
    npc_deputies: int
    cppcc_members: int
    shortfalls: list[str]


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def composition(counts: Counts) -> Composition:
    """R1.2 and R1.3: the figures of a roster against the minimum and the targets."""
    shortfalls: list[str] = []
    meets_minimum = counts.active >= MINIMUM_ACTIVE
    if not meets_minimum:
        shortfalls.append(f"ACTIVE_BELOW_MINIMUM:{MINIMUM_ACTIVE - counts.active}")
    categories = []
    for category, target in CATEGORY_TARGETS.items():
        count = counts.by_category.get(category, 0)
        share = _share(count, counts.active)
        allowed = max(target * TOLERANCE_RELATIVE, TOLERANCE_MIN_POINTS)
        short = share < target - allowed
        if short:
            shortfalls.append(f"{category.value}_SHARE_LOW")
        categories.append(CategoryShare(category, count, share, target, short))
    small_share = _share(counts.small_micro, counts.active)
    small_met = counts.active > 0 and small_share >= SMALL_MICRO_MINIMUM
    if not small_met:
        shortfalls.append("SMALL_MICRO_SHARE_LOW")
    return Composition(counts.active, meets_minimum, categories, counts.small_micro,
                       small_share, small_met, counts.npc_deputies, counts.cppcc_members,
                       shortfalls)


def renewal_order(latest_score: float | None, points: int, disciplines: int,
                  contact_firms: int) -> tuple[float, ...]:
    """R2.1: a sort key, smallest first = renewed first. The latest finalised assessment
    decides once it exists; until then points, then a clean record, then contact kept."""
    return (
        0 if latest_score is not None else 1,
        -(latest_score or 0.0),
        -points,
        disciplines,
        -contact_firms,
    )


def check_id_number(value: str) -> str:
    """A PRC resident ID number: 18 characters, a real birth date and a valid check digit
    (python-stdnum). Not stdnum's full validate(): it also requires the region code to have
    existed at the birth date, which refuses real numbers issued where a county was created
    after the holder was born (东昌区 220502 dates from 1986)."""
    number = ric.compact(value.strip().upper())
    try:
        if len(number) != 18 or not number[:-1].isdigit():
            raise ValidationError()
        if number[-1] != ric.calc_check_digit(number):
            raise ValidationError()
        ric.get_birth_date(number)
    except ValidationError:
        raise InvalidInput("身份证号码无效", "Invalid resident ID number",
                           field="idNumber") from None
    return number


def mask_id_number(number: str) -> str:
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def check_credit_code(value: str) -> str:
    """A unified social credit code with a valid check digit (python-stdnum)."""
    try:
        return str(uscc.validate(value.strip().upper()))
    except ValidationError:
        raise InvalidInput("统一社会信用代码无效", "Invalid unified social credit code",
                           field="creditCode") from None


def check_birth_year(year: int | None, today: date) -> None:
    if year is not None and not today.year - 100 <= year <= today.year - 18:
        raise InvalidInput("出生年份不合理", "Implausible birth year", field="birthYear")
