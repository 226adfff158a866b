"""Classes of bad input that once answered 5xx or INTERNAL, drawn by hypothesis and sent
through HTTP: attachment ids no column holds, control and format characters in text and
filenames, times without a zone or outside the platform's years, lists longer than any page.
Each gets a stable code and changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import clock
from core.attachments.models import Attachment
from core.cases.models import Case
from schema.scalars import MAX_LIST_ITEMS
from tests.cases.helpers import SUBMIT, agency_id
from tests.support import Api

EXAMPLES = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
HIDDEN = st.sampled_from(["\x00", "\x07", "\x1b", "\u202e", "\u2066", "\u200b", "\ufeff",
                          "\u200e", "\x7f"])


def _case_input(agency: str, **overrides: object) -> dict[str, object]:
    return {"kind": "REPORT", "category": "EFFICIENCY", "agency": agency, "title": "窗口推诿",
            "description": "承诺3日办结，实际已10日",
            "occurredAt": (clock.now() - timedelta(days=1)).isoformat(), **overrides}


@EXAMPLES
@given(raw=st.one_of(st.integers(min_value=2**31, max_value=10**30).map(str),
                     st.sampled_from(["²", "١٢", "0", "-1", "1e3", "0x10", "12²"])))
async def test_attachment_ids_no_column_holds_are_not_found(api: Api, full_demo: None,
                                                            raw: str) -> None:
    token = await api.token("admin.dc")
    response = await api.client.get(f"/attachments/{raw}",
                                    headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404, (raw, response.text)
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@EXAMPLES
@given(before=st.text(max_size=5), hidden=HIDDEN, after=st.text(min_size=1, max_size=5))
async def test_hidden_characters_in_text_and_filenames_are_refused(
        api: Api, full_demo: None, before: str, hidden: str, after: str) -> None:
    token = await api.token("sv.dc.001")
    cases, uploads = await Case.all().count(), await Attachment.all().count()
    title = f"窗口{before}{hidden}{after}"
    result = await api.gql(SUBMIT, {"input": _case_input(await agency_id("dc"), title=title)},
                           token=token)
    assert result.codes == ["INVALID_INPUT"], (title, result.errors)
    name = f"ok-{hidden}gnp.exe"
    # the body written by hand: httpx, as browsers do, would percent-encode control
    # characters in the filename; a hostile client sends them raw
    body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
            + name.encode() + b"\"\r\nContent-Type: application/pdf\r\n\r\n"
            b"%PDF-1.4\n%%EOF\n\r\n--b--\r\n")
    response = await api.client.post(
        "/uploads", content=body, headers={"Authorization": f"Bearer {token}",
                                           "Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 400, (name, response.text)
    assert response.json()["errors"][0]["extensions"] == {"code": "INVALID_INPUT",
                                                          "field": "filename"}
    assert (await Case.all().count(), await Attachment.all().count()) == (cases, uploads)


async def test_an_empty_upload_is_told_it_is_empty(api: Api, full_demo: None) -> None:
    response = await api.client.post(
        "/uploads", files={"file": ("空.pdf", b"", "application/pdf")},
        headers={"Authorization": f"Bearer {await api.token('sv.dc.001')}"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "文件为空"


STATS = "query($f: DateTime) { oversightStats(jurisdiction: \"jl.th\", from: $f) { total } }"


@EXAMPLES
@given(when=st.one_of(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 30)
                 ).map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00",
                     "1899-12-31T23:59:59Z"])))
async def test_times_without_a_zone_or_outside_the_years_are_invalid_input(
        api: Api, full_demo: None, when: str) -> None:
    cases = await Case.all().count()
    submitted = await api.gql(SUBMIT, {"input": _case_input(await agency_id("dc"),
                                                            occurredAt=when)},
                              token=await api.token("sv.dc.001"))
    assert submitted.codes == ["INVALID_INPUT"], (when, submitted.errors)
    counted = await api.gql(STATS, {"f": when}, token=await api.token("admin.dc"))
    assert counted.codes == ["INVALID_INPUT"], (when, counted.errors)
    assert await Case.all().count() == cases


@settings(max_examples=5, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(size=st.sampled_from([MAX_LIST_ITEMS + 1, 32_768, 70_000]))
async def test_lists_longer_than_any_page_are_invalid_input(api: Api, full_demo: None,
                                                            size: int) -> None:
    token = await api.token("admin.dc")
    result = await api.gql("mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }",
                           {"ids": [str(i + 1) for i in range(size)]}, token=token)
    assert result.codes == ["INVALID_INPUT"], result.errors[:1]
    fine = await api.gql("mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }",
                         {"ids": ["1", "2"]}, token=token)
    assert fine.ok()["markNotificationsRead"] == 0
