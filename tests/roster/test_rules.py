"""Pure roster rules, by their ids, with many cases."""

from __future__ import annotations

from datetime import date

import pytest

from core import validation
from core.errors import InvalidInput
from core.roster import rules
from core.roster.models import Category
from core.roster.rules import Counts


@pytest.mark.parametrize(("start", "end"), [
    (date(2026, 3, 1), date(2028, 2, 29)),   # the day before the second anniversary
    (date(2026, 1, 1), date(2027, 12, 31)),
    (date(2028, 2, 29), date(2030, 2, 28)),  # a leap-day start
    (date(2026, 12, 31), date(2028, 12, 30)),
])
def test_r1_7_a_term_is_two_years(start: date, end: date) -> None:
    """R1.7: a term runs two years."""
    assert rules.term_for(start) == (start, end)


def test_r2_1_renewal_follows_without_gap_or_starts_today() -> None:
    """R2.1: renewed terms follow the old one; a late renewal starts today."""
    assert rules.renewal_term(date(2026, 6, 30), date(2026, 6, 1)) == (
        date(2026, 7, 1), date(2028, 6, 30))
    assert rules.renewal_term(date(2026, 6, 30), date(2026, 8, 15)) == (
        date(2026, 8, 15), date(2028, 8, 14))


def _counts(active: int, by: dict[Category, int], small: int, npc: int = 0, cppcc: int = 0
            ) -> Counts:
    return Counts(active, by, small, npc, cppcc)


def test_r1_2_r1_3_composition_against_hand_computed_figures() -> None:
    """R1.2 minimum of 100; R1.3 shares: 70/15/5/5/5 'about', small and micro >= 50%."""
    # 120 active: 84 enterprise (70%), 18 association (15%), 6 media, 6 public, 6 grassroots
    good = rules.composition(_counts(120, {
        Category.ENTERPRISE: 84, Category.ASSOCIATION: 18, Category.MEDIA: 6,
        Category.PUBLIC_FIGURE: 6, Category.GRASSROOTS: 6}, small=61, npc=3, cppcc=2))
    assert good.meets_minimum and good.small_micro_met and good.shortfalls == []
    assert [round(c.share, 4) for c in good.categories] == [0.7, 0.15, 0.05, 0.05, 0.05]
    assert good.small_micro_share == pytest.approx(61 / 120)
    assert (good.npc_deputies, good.cppcc_members) == (3, 2)

    # 90 active, no media at all, 40 small/micro (44.4%), associations 11 (12.2%: more than
    # two points under 15% -> short), enterprise 71 (78.9%: above the target is fine)
    bad = rules.composition(_counts(90, {
        Category.ENTERPRISE: 71, Category.ASSOCIATION: 11, Category.PUBLIC_FIGURE: 4,
        Category.GRASSROOTS: 4}, small=40))
    assert not bad.meets_minimum and not bad.small_micro_met
    assert bad.shortfalls == ["ACTIVE_BELOW_MINIMUM:10", "ASSOCIATION_SHARE_LOW",
                              "MEDIA_SHARE_LOW", "SMALL_MICRO_SHARE_LOW"]
    # 4/90 = 4.4% public figures: the 5% target allows two points, so not short; nor is
    # 12/90 = 13.3% associations (15% less two points is 13%)
    assert not rules.composition(_counts(90, {Category.ASSOCIATION: 12}, small=0)
                                 ).categories[1].short
    assert not next(c for c in bad.categories if c.category is Category.PUBLIC_FIGURE).short


def test_r1_3_small_micro_exactly_half_is_enough_and_empty_roster_is_short() -> None:
    half = rules.composition(_counts(100, {Category.ENTERPRISE: 100}, small=50))
    assert half.small_micro_met
    empty = rules.composition(Counts())
    assert not empty.small_micro_met and empty.active == 0 and not empty.meets_minimum


def test_r2_1_renewal_order_prefers_assessment_then_points_then_record() -> None:
    """R2.1: responsible and outstanding supervisors are renewed first."""
    assessed_low = rules.renewal_order(60.0, 0, 0, 0)
    assessed_high = rules.renewal_order(90.0, 0, 3, 0)
    many_points = rules.renewal_order(None, 500, 0, 0)
    clean = rules.renewal_order(None, 10, 0, 2)
    disciplined = rules.renewal_order(None, 10, 2, 2)
    order = sorted([disciplined, clean, many_points, assessed_low, assessed_high])
    assert order == [assessed_high, assessed_low, many_points, clean, disciplined]


def test_id_numbers_and_credit_codes_are_checked_by_their_check_digit() -> None:
    assert rules.check_id_number("11010519491231002X") == "11010519491231002X"
    with pytest.raises(InvalidInput):
        rules.check_id_number("110105194912310021")
    assert rules.mask_id_number("11010519491231002X") == "1101**********002X"
    assert rules.check_credit_code("91350100M000100Y43") == "91350100M000100Y43"
    with pytest.raises(InvalidInput):
        rules.check_credit_code("91350100M000100Y44")


@pytest.mark.parametrize(("lat", "lon", "ok"), [
    (41.7, 125.9, True), (None, None, True), (91.0, 10.0, False), (10.0, 181.0, False),
    (10.0, None, False)])
def test_coordinates_are_checked(lat: float | None, lon: float | None, ok: bool) -> None:
    if ok:
        validation.check_coordinates(lat, lon)
    else:
        with pytest.raises(InvalidInput):
            validation.check_coordinates(lat, lon)
