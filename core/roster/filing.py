"""R1.6 provincial filing and R5.1 electronic certificates: a signed token (Ed25519) anyone can
verify, with a QR code of it."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from tortoise.transactions import in_transaction

from core import clock, crypto, throttle
from core.errors import Conflict, InvalidTransition, NotFound
from core.pagination import Page, keyset
from core.principal import Principal
from core.roster.models import Filing, Status, Supervisor
from core.roster.service import record_event
from core.validation import check_text
from policies.access import authorize, readable
from tenants.models import Jurisdiction

VERIFY_PER_MINUTE = 60
_FORMAT = "JLSC1."  # 吉林省软环境监督员（电子）证, format 1


class CertificateStatus(StrEnum):
    VALID = "VALID"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"
    UNKNOWN = "UNKNOWN"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_certificate(number: str, name: str, jurisdiction: Jurisdiction, start: date,
                     end: date) -> str:
    """The certificate as a compact signed token: payload and Ed25519 signature."""
    payload = json.dumps({"n": number, "h": name, "j": jurisdiction.path,
                          "jn": jurisdiction.name, "s": start.isoformat(),
                          "e": end.isoformat()},
                         ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    signature = crypto.certificate_key().sign(payload)
    return f"{_FORMAT}{_b64(payload)}.{_b64(signature)}"


def read_certificate(token: str) -> dict[str, str] | None:
    """The payload of a genuine token; None for a tampered or malformed one."""
    if not token.startswith(_FORMAT):
        return None
    body, _, signature = token[len(_FORMAT):].partition(".")
    try:
        payload = _unb64(body)
        crypto.certificate_public_key().verify(_unb64(signature), payload)
        data = json.loads(payload)
    except (InvalidSignature, ValueError, binascii.Error):
        return None
    return data if isinstance(data, dict) else None


async def pending_filings(principal: Principal, first: int, after: int | None
                          ) -> Page[Filing]:
    """Appointments and renewals awaiting the province's filing (filing:read)."""
    allowed = await readable(principal, "read", "filing", via="supervisor__")
    query = Filing.filter(allowed, filed_at__isnull=True, revoked_at__isnull=True
                          ).prefetch_related("supervisor")
    return await keyset(query, first, after)


def id_number_of(supervisor: Supervisor) -> str:
    """The decrypted ID number, for the province's filing (callers hold filing:read)."""
    return crypto.decrypt(supervisor.id_number_encrypted)


async def record_filing(principal: Principal, supervisor_id: int, filing_number: str,
                        certificate_number: str) -> Filing:
    """R1.6: the province records its filing of the supervisor's current term; the platform
    then issues the electronic certificate (R5.1). Filing twice is INVALID_TRANSITION."""
    filing_number = check_text(filing_number, "filingNumber", maximum=64)
    certificate_number = check_text(certificate_number, "certificateNumber", maximum=64)
    allowed = await readable(principal, "record", "filing")
    supervisor = await Supervisor.filter(allowed, id=supervisor_id
                                         ).select_related("jurisdiction").first()
    if supervisor is None:
        raise NotFound("监督员不存在", "No such supervisor", field="supervisorId")
    authorize(principal, "record", "filing", supervisor.jurisdiction.path)
    async with in_transaction():
        filing = await Filing.filter(supervisor=supervisor, term_start=supervisor.term_start,
                                     revoked_at__isnull=True).select_for_update().first()
        if filing is None or supervisor.status is not Status.ACTIVE:
            raise InvalidTransition("没有待备案的任期", "No term awaits filing",
                                    field="supervisorId")
        if filing.filed_at is not None:
            raise InvalidTransition("该任期已备案", "This term is filed already",
                                    field="supervisorId")
        if await Filing.exists(certificate_number=certificate_number):
            raise Conflict("证书编号已被使用", "Certificate number in use",
                           field="certificateNumber")
        if await Filing.exists(filing_number=filing_number):
            raise Conflict("备案编号已被使用", "Filing number in use", field="filingNumber")
        filing.filing_number, filing.certificate_number = filing_number, certificate_number
        filing.filed_at, filing.filed_by = clock.now(), principal.username
        filing.certificate_token = sign_certificate(
            certificate_number, supervisor.name, supervisor.jurisdiction, filing.term_start,
            filing.term_end)
        await filing.save()
        await record_event(supervisor, principal.actor, "FILED",
                           detail={"filingNumber": filing_number,
                                   "certificateNumber": certificate_number})
    return filing


async def revoke_certificates(supervisor: Supervisor) -> None:
    """A dismissed or removed supervisor's certificates stop verifying at once."""
    await Filing.filter(supervisor=supervisor, revoked_at__isnull=True).update(
        revoked_at=clock.now())


@dataclass(frozen=True)
class Verification:
    status: CertificateStatus
    holder_name: str | None = None
    jurisdiction: Jurisdiction | None = None
    term_end: date | None = None


async def verify_certificate(address: str, *, token: str | None, number: str | None
                             ) -> Verification:
    """R5.1: anyone checks that a certificate is genuine and current. A tampered token or an
    unknown number is UNKNOWN; a dismissed or removed holder's certificate is REVOKED."""
    await throttle.reserve([("certificate.verify", address, VERIFY_PER_MINUTE)],
                           timedelta(minutes=1))
    if token is not None:
        payload = read_certificate(token.strip())
        if payload is None:
            return Verification(CertificateStatus.UNKNOWN)
        number = payload.get("n")
    if not number:
        return Verification(CertificateStatus.UNKNOWN)
    filing = await Filing.filter(certificate_number=number.strip()).select_related(
        "supervisor__jurisdiction").first()
    if filing is None or (token is not None and filing.certificate_token != token.strip()):
        return Verification(CertificateStatus.UNKNOWN)
    holder: Supervisor = filing.supervisor
    if filing.revoked_at is not None or holder.status in (Status.DISMISSED, Status.REMOVED):
        status = CertificateStatus.REVOKED
    elif filing.term_end < clock.today() or holder.status is Status.EXPIRED:
        status = CertificateStatus.EXPIRED
    else:
        status = CertificateStatus.VALID
    return Verification(status, holder.name, holder.jurisdiction, filing.term_end)


