"""Driving cases through the API in tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core import clock
from core.agencies.models import Agency
from tests.support import Api

SUBMIT = """mutation($input: CaseInput!) { submitCase(input: $input) {
  id state kind jurisdiction { path } agency { name } } }"""
CASE = """query($id: ID!) { case(id: $id) { id state kind dueAt overdue finding majorLead
  adoption rating reopened escalated jurisdiction { path } agency { name }
  reporter { name phone } history { kind actor actorRole fromState toState }
  supervisionOrders { id acknowledgedAt issuedBy { path } } } }"""


async def agency_id(jurisdiction_code: str, code: str = "scjg") -> str:
    agency = await Agency.get(code=code, jurisdiction__code=jurisdiction_code)
    return str(agency.id)


async def submit(api: Api, user: str = "sv.dc.001", *, agency: str | None = None,
                 kind: str = "REPORT", **extra: Any) -> dict[str, Any]:
    variables = {"input": {
        "kind": kind, "category": "SERVICE_ATTITUDE",
        "agency": agency or await agency_id("dc"), "title": "窗口推诿",
        "description": "办理营业执照变更时被要求重复提交材料",
        "occurredAt": (clock.now() - timedelta(days=1)).isoformat(), "place": "政务服务中心",
        **extra}}
    return (await api.gql(SUBMIT, variables, as_user=user)).ok()["submitCase"]


async def act(api: Api, user: str, mutation: str, case_id: str, args: str = "") -> Any:
    """Run `mutation(id: …, args) { state }` as `user`; returns the raw result."""
    extra = f", {args}" if args else ""
    return await api.gql(f'mutation {{ {mutation}(id: "{case_id}"{extra}) {{ state }} }}',
                         as_user=user)


async def to_transferred(api: Api, case_id: str, office: str = "admin.dc") -> None:
    (await act(api, office, "acceptCase", case_id)).ok()
    (await act(api, office, "transferCase", case_id, 'note: "请核实"')).ok()
