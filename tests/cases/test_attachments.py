"""Evidence uploads: content-checked, size-capped, image metadata stripped, sha256 kept,
attached to a case and readable only by those who read the case."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

from PIL import Image

from core import clock
from core.attachments import service as attachments
from core.attachments.models import Attachment
from core.audit import AuditRecord
from tests.cases.helpers import agency_id, submit, to_transferred
from tests.support import Api, pdf_bytes


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (8, 8), (200, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"        # Make
    exif[0x8825] = {2: (41.0, 43.0, 0.0)}  # GPS latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


async def _upload(api: Api, user: str, name: str, data: bytes, mime: str = "image/jpeg"):
    token = await api.token(user)
    return await api.client.post("/uploads", files={"file": (name, data, mime)},
                                 headers={"Authorization": f"Bearer {token}"})


async def test_an_image_is_stored_without_metadata_and_attached(api: Api, full_demo: None
                                                                ) -> None:
    original = _jpeg_with_gps()
    assert b"SecretCam" in original
    response = await _upload(api, "sv.dc.001", "现场.jpg", original)
    assert response.status_code == 201, response.text
    staged = response.json()
    stored = await Attachment.get(id=int(staged["id"]))
    assert b"SecretCam" not in stored.data and b"Exif" not in stored.data
    assert staged["sha256"] == hashlib.sha256(stored.data).hexdigest() == stored.sha256
    with Image.open(io.BytesIO(stored.data)) as image:
        assert image.size == (8, 8) and not image.getexif()
    case = await submit(api, attachments=[staged["id"]])
    listed = (await api.gql(f'{{ case(id: "{case["id"]}") {{ attachments {{ id sha256 '
                            "downloadPath } } }", as_user="admin.dc")).ok()
    path = listed["case"]["attachments"][0]["downloadPath"]
    office = await api.client.get(path, headers={
        "Authorization": f"Bearer {await api.token('admin.dc')}"})
    assert office.status_code == 200 and office.content == stored.data
    other = await api.client.get(path, headers={
        "Authorization": f"Bearer {await api.token('admin.ja')}"})
    assert other.status_code == 404
    await to_transferred(api, case["id"])
    agency = await api.client.get(path, headers={
        "Authorization": f"Bearer {await api.token('ag.dc.scjg')}"})
    assert agency.status_code == 200
    # an attachment joins one case only
    again = await api.gql("""mutation($i: CaseInput!) { submitCase(input: $i) { id } }""",
                          {"i": {"kind": "REPORT", "category": "OTHER",
                                 "agency": await agency_id("dc"), "title": "t",
                                 "description": "d", "occurredAt": "2026-01-01T00:00:00Z",
                                 "attachments": [staged["id"]]}}, as_user="sv.dc.001")
    assert again.codes == ["NOT_FOUND"]


async def test_uploads_are_checked(api: Api, full_demo: None) -> None:
    before = await Attachment.all().count()
    fake = await _upload(api, "sv.dc.001", "x.jpg", b"MZ\x90\x00not an image")
    assert fake.status_code == 400
    assert fake.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    big = await _upload(api, "sv.dc.001", "big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))
    assert big.status_code in (400, 413)
    anonymous = await api.client.post("/uploads", files={"file": ("a.pdf", b"%PDF-1.4", "x")})
    assert anonymous.status_code == 401
    broken = await _upload(api, "sv.dc.001", "a.pdf", b"%PDF-1.4 minimal", "application/pdf")
    assert broken.status_code == 400  # a PDF that cannot be read cannot be cleaned
    pdf = await _upload(api, "sv.dc.001", "a.pdf", pdf_bytes(), "application/pdf")
    assert pdf.status_code == 201 and pdf.json()["contentType"] == "application/pdf"
    assert await Attachment.all().count() == before + 1
    # someone else cannot attach or read my staged upload
    stolen = await api.gql("""mutation($i: CaseInput!) { submitCase(input: $i) { id } }""",
                           {"i": {"kind": "REPORT", "category": "OTHER",
                                  "agency": await agency_id("dc"), "title": "t",
                                  "description": "d", "occurredAt": "2026-01-01T00:00:00Z",
                                  "attachments": [pdf.json()["id"]]}}, as_user="sv.dc.002")
    assert stolen.codes == ["NOT_FOUND"]


def _pdf(n: int) -> bytes:
    return pdf_bytes(f"evidence {n}")


async def test_an_account_has_at_most_twenty_uploads_waiting(api: Api, full_demo: None
                                                             ) -> None:
    """Each upload may be 10 MB, kept in the database until a case takes it: one account can
    have MAX_STAGED waiting, no more; one taken frees its place."""
    staged = []
    for n in range(attachments.MAX_STAGED):
        response = await _upload(api, "sv.dc.001", f"{n}.pdf", _pdf(n), "application/pdf")
        assert response.status_code == 201, response.text
        staged.append(response.json()["id"])
    before = await Attachment.all().count()
    refused = await _upload(api, "sv.dc.001", "x.pdf", _pdf(99), "application/pdf")
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED",
                                                         "field": "file"}
    assert await Attachment.all().count() == before
    other = await _upload(api, "sv.dc.002", "y.pdf", _pdf(98), "application/pdf")
    assert other.status_code == 201  # another account's are its own
    await submit(api, attachments=staged[:1])
    again = await _upload(api, "sv.dc.001", "x.pdf", _pdf(99), "application/pdf")
    assert again.status_code == 201


async def test_uploads_nothing_took_within_a_day_are_purged(api: Api, full_demo: None
                                                            ) -> None:
    taken, lapsing = [(await _upload(api, "sv.dc.001", f"{n}.pdf", _pdf(n),
                                     "application/pdf")).json()["id"] for n in (1, 2)]
    case = await submit(api, attachments=[taken])
    later = clock.now() + attachments.STAGED_FOR + timedelta(minutes=1)
    clock.set_source(lambda: later)
    api.tokens.clear()  # signed in again, a day on
    fresh = (await _upload(api, "sv.dc.001", "3.pdf", _pdf(3), "application/pdf")).json()["id"]

    assert await attachments.purge_staged() == 1

    left = await Attachment.all().order_by("id").values_list("id", "case_id")
    assert [(str(i), c) for i, c in left] == [(taken, int(case["id"])), (fresh, None)]
    record = await AuditRecord.get(action="attachment.purge")
    assert record.actor == "system" and record.detail == {"attachments": [int(lapsing)]}
    assert await attachments.purge_staged() == 0
    late = await api.gql("""mutation($i: CaseInput!) { submitCase(input: $i) { id } }""",
                         {"i": {"kind": "REPORT", "category": "OTHER",
                                "agency": await agency_id("dc"), "title": "t",
                                "description": "d", "occurredAt": "2026-01-01T00:00:00Z",
                                "attachments": [lapsing]}}, as_user="sv.dc.001")
    assert late.codes == ["NOT_FOUND"]


async def test_r4_4_a_pdf_keeps_no_author_and_its_name_only_for_reporter_and_office(
        api: Api, full_demo: None) -> None:
    """An office PDF's document info and XMP carry its author's real name, and the uploaded
    filename (`赵军-举报材料.pdf`) names the reporter: the stored file has neither author,
    and the agency and other offices see a neutral name."""
    import pikepdf

    original = pdf_bytes("举报材料", author="赵军")
    assert "赵军".encode("utf-16-be") in original or "赵军".encode() in original
    staged = (await _upload(api, "sv.dc.001", "赵军-举报材料.pdf", original,
                            "application/pdf")).json()
    stored = await Attachment.get(id=int(staged["id"]))
    with pikepdf.open(io.BytesIO(stored.data)) as pdf:
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root
        assert len(pdf.pages) == 1
    for encoded in ("赵军".encode(), "赵军".encode("utf-16-be")):
        assert encoded not in stored.data
    case = await submit(api, user="sv.dc.001", attachments=[staged["id"]])
    await to_transferred(api, case["id"])
    names = f'{{ case(id: "{case["id"]}") {{ attachments {{ filename }} }} }}'
    shared = """query($f: CaseFilter) { oversightCases(filter: $f, first: 5) { edges { node {
      id attachments { filename } } } } }"""
    for user in ("sv.dc.001", "admin.dc"):
        seen = (await api.gql(names, as_user=user)).ok()["case"]["attachments"]
        assert seen == [{"filename": "赵军-举报材料.pdf"}], user
    neutral = [{"filename": f"第{case['id']}号案件-附件1.pdf"}]
    assert (await api.gql(names, as_user="ag.dc.scjg")).ok()["case"]["attachments"] == neutral
    for office in ("admin.th", "admin.ja"):
        edges = (await api.gql(shared, {"f": {"jurisdiction": "jl.th.dc", "from": (
            clock.now() - timedelta(hours=1)).isoformat()}}, as_user=office)).ok()[
            "oversightCases"]["edges"]
        mine = [e["node"] for e in edges if e["node"]["id"] == case["id"]]
        assert mine and mine[0]["attachments"] == neutral, office
