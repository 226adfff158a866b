"""Composition reports (R1.2, R1.3) against the demo rosters' known make-up."""

from __future__ import annotations

from tests.support import Api, QueryCounter

FIGURES = """activeCount meetsMinimum smallMicroCount smallMicroShare smallMicroMet
  npcDeputies cppccMembers shortfalls categories { category count share target short }"""
REPORT = f"""query($j: String!) {{ compositionReport(jurisdiction: $j) {{
  jurisdiction {{ path }} figures {{ {FIGURES} }} }} }}"""
REPORTS = f"""query($u: String!) {{ compositionReports(under: $u) {{
  jurisdiction {{ path }} figures {{ {FIGURES} }} }} }}"""


async def test_r1_2_r1_3_dongchang_meets_the_measures(api: Api, roster_demo: None) -> None:
    """Hand-computed from the demo plan: 110 active, 77/16/6/6/5, 60 small or micro."""
    data = (await api.gql(REPORT, {"j": "jl.th.dc"}, as_user="admin.dc")).ok()
    figures = data["compositionReport"]["figures"]
    assert figures["activeCount"] == 110 and figures["meetsMinimum"]
    assert figures["smallMicroCount"] == 60
    assert abs(figures["smallMicroShare"] - 60 / 110) < 1e-9 and figures["smallMicroMet"]
    assert (figures["npcDeputies"], figures["cppccMembers"]) == (4, 5)
    assert {c["category"]: c["count"] for c in figures["categories"]} == {
        "ENTERPRISE": 77, "ASSOCIATION": 16, "MEDIA": 6, "PUBLIC_FIGURE": 6, "GRASSROOTS": 5}
    assert figures["shortfalls"] == []


async def test_r1_3_jian_falls_short_of_the_small_micro_half(api: Api, roster_demo: None
                                                              ) -> None:
    data = (await api.gql(REPORT, {"j": "jl.th.ja"}, as_user="admin.ja")).ok()
    figures = data["compositionReport"]["figures"]
    assert figures["activeCount"] == 104 and figures["smallMicroCount"] == 45
    assert not figures["smallMicroMet"]
    assert figures["shortfalls"] == ["SMALL_MICRO_SHARE_LOW"]


async def test_r1_2_every_jurisdiction_of_the_city_in_one_round_of_sql(api: Api,
                                                                      roster_demo: None) -> None:
    """R1.2 for each unit; the city's figure is its whole roster (its own and below)."""
    await api.token("admin.dc")
    with QueryCounter() as counter:
        data = (await api.gql(REPORTS, {"u": "jl.th"}, as_user="admin.dc")).ok()
    # principal, the jurisdiction list, one grouped count
    assert counter.count == 3, counter.statements
    by_path = {r["jurisdiction"]["path"]: r["figures"] for r in data["compositionReports"]}
    assert len(by_path) == 10
    assert by_path["jl.th"]["activeCount"] == 110 + 104 + 12
    assert by_path["jl.th.edj"]["activeCount"] == 0
    assert by_path["jl.th.edj"]["shortfalls"][0] == "ACTIVE_BELOW_MINIMUM:100"
    assert by_path["jl.th.dc"]["shortfalls"] == []


async def test_r7_2_composition_is_shared_city_wide_but_not_beyond(api: Api, roster_demo: None
                                                                   ) -> None:
    """Every office of the city reads the city's composition; the province reads all."""
    shared = (await api.gql(REPORT, {"j": "jl.th.ja"}, as_user="admin.edj")).ok()
    assert shared["compositionReport"]["figures"]["activeCount"] == 104
    province = (await api.gql(REPORTS, {"u": "jl"}, api_key=(
        __import__("core.config", fromlist=["settings"]).settings().data_dir / "province.key"
    ).read_text().strip())).ok()
    assert len(province["compositionReports"]) == 11
    assert (await api.gql(REPORT, {"j": "jl.th.dc"}, as_user="sv.dc.001")).codes == [
        "NOT_FOUND"]
