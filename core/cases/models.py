"""Cases and everything that happens to them, as rows: steps, orders, disclosures,
attachments, notifications."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class Kind(StrEnum):
    REPORT = "REPORT"                          # R3.1, R3.2
    SUGGESTION = "SUGGESTION"                  # R3.3, R3.4
    INQUIRY = "INQUIRY"                        # R5.3 质询
    DOCUMENT_REQUEST = "DOCUMENT_REQUEST"      # R5.3 reading an agency's documents
    SUPERVISION_RECORD = "SUPERVISION_RECORD"  # R5.3 on-site supervision


class RecordType(StrEnum):
    """What an on-site supervision record is about (R9.2 criteria 1 and 2)."""

    ADMIN_APPROVAL = "ADMIN_APPROVAL"
    FIRM_INSPECTION = "FIRM_INSPECTION"
    FIRM_ENFORCEMENT = "FIRM_ENFORCEMENT"
    FIRM_FEES = "FIRM_FEES"


class Category(StrEnum):
    SERVICE_ATTITUDE = "SERVICE_ATTITUDE"
    EFFICIENCY = "EFFICIENCY"
    DISCIPLINE = "DISCIPLINE"
    LAW_ENFORCEMENT = "LAW_ENFORCEMENT"
    JUDICIAL = "JUDICIAL"
    POLICY_IMPLEMENTATION = "POLICY_IMPLEMENTATION"
    FEES = "FEES"
    OTHER = "OTHER"


class State(StrEnum):
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    TRANSFERRED = "TRANSFERRED"
    REPLIED = "REPLIED"
    VERIFIED = "VERIFIED"
    CLOSED = "CLOSED"


class Finding(StrEnum):
    SUBSTANTIATED = "SUBSTANTIATED"
    PARTLY_SUBSTANTIATED = "PARTLY_SUBSTANTIATED"
    UNSUBSTANTIATED = "UNSUBSTANTIATED"


class Adoption(StrEnum):
    """R7.4: how an office decides on a suggestion."""

    ADOPTED = "ADOPTED"
    PARTLY_ADOPTED = "PARTLY_ADOPTED"
    NOT_ADOPTED = "NOT_ADOPTED"


class Case(Model):
    """A case, handled by the office of `jurisdiction` (the office that owns the agency, or
    the city office after escalation) and answered by `agency`."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(Kind, max_length=24)
    record_type = fields.CharEnumField(RecordType, max_length=24, null=True)
    category = fields.CharEnumField(Category, max_length=24)
    state = fields.CharEnumField(State, max_length=16, default=State.SUBMITTED)
    jurisdiction: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="cases", on_delete=fields.RESTRICT)
    jurisdiction_id: int  # set by Tortoise from `jurisdiction`
    agency: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Agency", related_name="cases", on_delete=fields.RESTRICT)
    agency_id: int  # set by Tortoise from `agency`
    reporter: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Supervisor", related_name="cases", on_delete=fields.RESTRICT)
    reporter_id: int  # set by Tortoise from `reporter`
    contact_firm: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.ContactFirm", related_name="cases", null=True, on_delete=fields.RESTRICT)
    contact_firm_id: int | None  # set by Tortoise from `contact_firm`
    title = fields.CharField(max_length=200)
    description = fields.TextField()
    place = fields.CharField(max_length=200, default="")
    occurred_at = fields.DatetimeField()
    submitted_at = fields.DatetimeField()
    transferred_at = fields.DatetimeField(null=True)
    due_at = fields.DatetimeField(null=True)
    replied_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    reply = fields.TextField(default="")
    finding = fields.CharEnumField(Finding, max_length=24, null=True)
    major_lead = fields.BooleanField(default=False)
    adoption = fields.CharEnumField(Adoption, max_length=16, null=True)
    rating = fields.IntField(null=True)
    reopened = fields.BooleanField(default=False)
    escalated = fields.BooleanField(default=False)

    @property
    def reporter_at_hand(self) -> Any | None:
        """The reporter if it came with the case (`select_related`, or given when created),
        where Tortoise keeps it; None if it must be read (`case.reporter` would make that
        query, lazily, for every case asked)."""
        return self.__dict__.get("_reporter")

    class Meta:
        table = "supervision_case"
        indexes = (("jurisdiction_id", "id"), ("agency_id", "id"), ("reporter_id", "id"),
                   ("state", "due_at"))


class CaseEvent(Model):
    """One step of a case: who (account and kind of actor), when, from which state."""

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="events", on_delete=fields.RESTRICT)
    case_id: int  # set by Tortoise from `case`
    kind = fields.CharField(max_length=32)
    at = fields.DatetimeField()
    actor_account_id = fields.IntField(null=True)
    actor_role = fields.CharField(max_length=16)  # REPORTER, OFFICE, AGENCY, SYSTEM
    actor = fields.CharField(max_length=64)
    from_state = fields.CharField(max_length=16, null=True)
    to_state = fields.CharField(max_length=16, null=True)
    note = fields.TextField(default="")
    detail: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "case_event"
        indexes = (("case_id", "id"),)


class SupervisionOrder(Model):
    """R7.1 督办: an upper office presses the handling office on a case."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="orders", on_delete=fields.RESTRICT)
    case_id: int  # set by Tortoise from `case`
    issued_by: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="orders_issued", on_delete=fields.RESTRICT)
    issued_by_id: int  # set by Tortoise from `issued_by`
    note = fields.TextField()
    issued_at = fields.DatetimeField()
    issuer = fields.CharField(max_length=64)
    acknowledged_at = fields.DatetimeField(null=True)
    acknowledged_by = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "supervision_order"
        indexes = (("case_id",),)


class Disclosure(Model):
    """R4.4: the handling office disclosed the reporter to the agency, with a reason."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="disclosures", on_delete=fields.RESTRICT)
    case_id: int  # set by Tortoise from `case`
    agency: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Agency", related_name="disclosures", on_delete=fields.RESTRICT)
    agency_id: int  # set by Tortoise from `agency`
    reason = fields.TextField()
    by = fields.CharField(max_length=64)
    at = fields.DatetimeField()

    class Meta:
        table = "case_disclosure"
        unique_together = (("case", "agency"),)


class DueRule(Model):
    """A jurisdiction's own reply time for a kind of case, in working days."""

    id = fields.IntField(primary_key=True)
    jurisdiction: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="due_rules", on_delete=fields.CASCADE)
    jurisdiction_id: int  # set by Tortoise from `jurisdiction`
    kind = fields.CharEnumField(Kind, max_length=24)
    working_days = fields.IntField()

    class Meta:
        table = "due_rule"
        unique_together = (("jurisdiction", "kind"),)


class CaseTally(Model):
    """R7.2: how many cases of a jurisdiction, submitted in a (local) month, have each value
    of a counted dimension (kind, category, state, agency id, finding). Written only by the
    `case_tally` trigger of supervision_case, in the transaction that changes the case;
    `core.cases.tally` reads it and proves it equal to a recount."""

    id = fields.BigIntField(primary_key=True)
    jurisdiction_id = fields.IntField()
    month = fields.DateField()
    dimension = fields.CharField(max_length=16)
    key = fields.CharField(max_length=32)
    n = fields.IntField(default=0)

    class Meta:
        table = "case_tally"
        unique_together = (("jurisdiction_id", "month", "dimension", "key"),)


class CaseTallyTotal(Model):
    """R7.2: the same counts over all time (the sum of a jurisdiction's months), so that the
    figures of the whole history do not grow with it. Written only by the trigger on
    case_tally (migration 0008), in the same transaction."""

    id = fields.BigIntField(primary_key=True)
    jurisdiction_id = fields.IntField()
    dimension = fields.CharField(max_length=16)
    key = fields.CharField(max_length=32)
    n = fields.BigIntField(default=0)

    class Meta:
        table = "case_tally_total"
        unique_together = (("jurisdiction_id", "dimension", "key"),)
