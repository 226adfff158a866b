"""R1.6 provincial filing and R5.1 electronic certificates, verified for each status."""

from __future__ import annotations

from datetime import timedelta

from core import clock
from core.config import settings
from core.roster.models import Filing, Supervisor
from tests.support import Api

PENDING = """query($after: String) { pendingFilings(first: 100, after: $after) { totalCount
  edges { node { id termStart idNumber supervisor { id name idNumberMasked
    jurisdiction { path } } } }
  pageInfo { hasNextPage endCursor } } }"""
RECORD = """mutation($s: ID!, $f: String!, $c: String!) {
  recordFiling(supervisorId: $s, filingNumber: $f, certificateNumber: $c) {
    number token termEnd qrSvg } }"""
VERIFY_TOKEN = """query($t: String!) { verifyCertificate(token: $t) {
  status holderName jurisdiction { name } termEnd } }"""
VERIFY_NUMBER = """query($n: String!) { verifyCertificate(number: $n) {
  status holderName jurisdiction { name } termEnd } }"""


def _province_key() -> str:
    return (settings().data_dir / "province.key").read_text().strip()


async def _pending_supervisor() -> Supervisor:
    filing = await Filing.filter(filed_at__isnull=True, supervisor__status="ACTIVE",
                                 supervisor__jurisdiction__path="jl.th.dc").order_by("id").first()
    assert filing is not None
    return await Supervisor.get(id=filing.supervisor_id)


async def test_r1_6_province_lists_pending_filings_across_the_city(api: Api, roster_demo: None
                                                                  ) -> None:
    """R1.6: the provincial office files appointments; it sees every pending term."""
    data = (await api.gql(PENDING, api_key=_province_key())).ok()["pendingFilings"]
    expected = await Filing.filter(filed_at__isnull=True, revoked_at__isnull=True).count()
    assert data["totalCount"] == expected > 100
    paths = {e["node"]["supervisor"]["jurisdiction"]["path"] for e in data["edges"]}
    # the ID number is stored encrypted; the province reads it whole, everyone else masked
    node = data["edges"][0]["node"]
    masked = node["supervisor"]["idNumberMasked"]
    assert node["idNumber"][:4] == masked[:4] and node["idNumber"][-4:] == masked[-4:]
    stored = await Supervisor.get(id=int(node["supervisor"]["id"]))
    assert node["idNumber"] not in stored.id_number_encrypted
    assert paths <= {"jl.th", "jl.th.dc", "jl.th.ja"} and len(paths) >= 2
    # offices are not the province
    assert (await api.gql(PENDING, as_user="admin.th")).ok()["pendingFilings"]["totalCount"] == 0


async def test_r1_6_r5_1_recording_a_filing_issues_a_verifiable_certificate(
        api: Api, roster_demo: None) -> None:
    """R1.6 then R5.1: a signed certificate with a QR code, which anyone verifies VALID."""
    supervisor = await _pending_supervisor()
    issued = (await api.gql(RECORD, {"s": str(supervisor.id), "f": "JLBA-2026-0001",
                                     "c": "JL2026DC99001"}, api_key=_province_key())).ok()
    cert = issued["recordFiling"]
    assert cert["number"] == "JL2026DC99001" and cert["qrSvg"].startswith("<svg")
    by_token = (await api.gql(VERIFY_TOKEN, {"t": cert["token"]})).ok()["verifyCertificate"]
    assert by_token == {"status": "VALID", "holderName": supervisor.name,
                        "jurisdiction": {"name": "东昌区"},
                        "termEnd": supervisor.term_end.isoformat()}
    by_number = (await api.gql(VERIFY_NUMBER, {"n": "JL2026DC99001"})).ok()
    assert by_number["verifyCertificate"]["status"] == "VALID"
    detail = await api.gql(f'{{ supervisor(id: "{supervisor.id}") {{ certificate {{ number }} '
                           "history { kind } } }", as_user="admin.dc")
    assert detail.ok()["supervisor"]["certificate"] == {"number": "JL2026DC99001"}
    assert [h["kind"] for h in detail.ok()["supervisor"]["history"]][-1] == "FILED"


async def test_filing_twice_is_an_invalid_transition(api: Api, roster_demo: None) -> None:
    supervisor = await _pending_supervisor()
    variables = {"s": str(supervisor.id), "f": "JLBA-1", "c": "CERT-1"}
    (await api.gql(RECORD, variables, api_key=_province_key())).ok()
    again = await api.gql(RECORD, {**variables, "f": "JLBA-2", "c": "CERT-2"},
                          api_key=_province_key())
    assert again.codes == ["INVALID_TRANSITION"]
    assert not await Filing.exists(certificate_number="CERT-2")


async def test_offices_cannot_record_filings(api: Api, roster_demo: None) -> None:
    supervisor = await _pending_supervisor()
    result = await api.gql(RECORD, {"s": str(supervisor.id), "f": "X", "c": "Y"},
                           as_user="admin.dc")
    assert result.codes == ["NOT_FOUND"]
    assert not await Filing.exists(certificate_number="Y")


async def test_r5_1_tampered_and_unknown_certificates_are_unknown(api: Api, roster_demo: None
                                                                  ) -> None:
    filed = await Filing.filter(filed_at__isnull=False, revoked_at__isnull=True).first()
    assert filed is not None and filed.certificate_token
    token = filed.certificate_token
    payload, signature = token.removeprefix("JLSC1.").split(".")
    forged_payload = payload[:-3] + ("AAA" if not payload.endswith("AAA") else "BBB")
    for bad in (f"JLSC1.{forged_payload}.{signature}", token[:-2] + "xx", "nonsense"):
        result = (await api.gql(VERIFY_TOKEN, {"t": bad})).ok()["verifyCertificate"]
        assert result == {"status": "UNKNOWN", "holderName": None, "jurisdiction": None,
                          "termEnd": None}
    unknown = (await api.gql(VERIFY_NUMBER, {"n": "NO-SUCH-NUMBER"})).ok()
    assert unknown["verifyCertificate"]["status"] == "UNKNOWN"


async def test_r5_1_expired_and_revoked_certificates(api: Api, roster_demo: None) -> None:
    """An ended term verifies EXPIRED; a dismissed holder's certificate REVOKED at once."""
    filed = await Filing.filter(filed_at__isnull=False, revoked_at__isnull=True,
                                supervisor__jurisdiction__path="jl.th.dc").first()
    assert filed is not None
    later = clock.now() + timedelta(days=800)
    clock.set_source(lambda: later)
    expired = (await api.gql(VERIFY_NUMBER, {"n": filed.certificate_number})).ok()
    assert expired["verifyCertificate"]["status"] == "EXPIRED"
    clock.set_source(None)
    sup_id = filed.supervisor_id
    (await api.gql(f'mutation {{ recordDiscipline(supervisorId: "{sup_id}", '
                   'kind: REMOVAL, reason: "收受礼品") { id } }', as_user="admin.dc")).ok()
    number = filed.certificate_number
    revoked = (await api.gql(VERIFY_NUMBER, {"n": number})).ok()
    assert revoked["verifyCertificate"]["status"] == "REVOKED"


async def test_verification_is_throttled_per_address(api: Api, roster_demo: None) -> None:
    for _ in range(60):
        await api.gql(VERIFY_NUMBER, {"n": "X"})
    assert (await api.gql(VERIFY_NUMBER, {"n": "X"})).codes == ["RATE_LIMITED"]
