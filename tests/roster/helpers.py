"""Inputs for roster tests: valid ID numbers and credit codes, people, conditions."""

from __future__ import annotations

import itertools
from typing import Any

from stdnum.cn import ric, uscc

from core.roster.rules import CONDITIONS

_serial = itertools.count(100)


def id_number(region: str = "220502", born: str = "19800101") -> str:
    stem = f"{region}{born}{next(_serial) % 1000:03d}"
    return stem + ric.calc_check_digit(stem + "0")


def credit_code(body: str = "91220500MA0Y3Q1X") -> str:
    stem = body + f"{next(_serial) % 10}"
    return stem + uscc.calc_check_digit(stem)


def person(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "孙悦", "phone": "13904351234", "idNumber": id_number(),
        "category": "ENTERPRISE", "unit": "通化东宝商贸有限公司", "industry": "商贸",
        "isSmallMicro": True, "latitude": 41.73, "longitude": 125.94,
    }
    values.update(overrides)
    return values


def conditions(text: str = "符合条件") -> list[dict[str, str]]:
    return [{"condition": c, "text": text} for c in CONDITIONS]


def application(jurisdiction: str = "jl.th.dc", *, special: bool = False,
                **person_overrides: Any) -> dict[str, Any]:
    return {
        "jurisdiction": jurisdiction, "isSpecial": special, "person": person(**person_overrides),
        "statements": conditions("本人自愿"),
        "recommendation": {"unit": "通化东宝商贸有限公司", "contact": "王经理 0435-3200000",
                           "text": "推荐该同志担任监督员"},
    }


SUBMIT = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status path isSpecial idNumberMasked jurisdiction { path } } }"""
REVIEW = """mutation($id: ID!, $decision: Decision!, $findings: [ConditionInput!]!) {
  reviewApplication(id: $id, decision: $decision, findings: $findings, note: "同意") {
    application { status reviewedBy findings { condition text } }
    supervisor { id status termStart termEnd isSpecial jurisdiction { path } username }
    username initialPassword } }"""
