"""The roster's tables. Transitions, filings, discipline and contact-firm links are rows;
nothing about a supervisor's history is overwritten."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class Category(StrEnum):
    """R1.3's composition groups."""

    ENTERPRISE = "ENTERPRISE"
    ASSOCIATION = "ASSOCIATION"
    MEDIA = "MEDIA"
    PUBLIC_FIGURE = "PUBLIC_FIGURE"
    GRASSROOTS = "GRASSROOTS"


class Status(StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    DISMISSED = "DISMISSED"
    REMOVED = "REMOVED"


class Gender(StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"


class Group(Model):
    """R7.4: an industry group of supervisors inside one jurisdiction."""

    id = fields.IntField(primary_key=True)
    jurisdiction: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="groups", on_delete=fields.RESTRICT)
    jurisdiction_id: int  # set by Tortoise from `jurisdiction`
    name = fields.CharField(max_length=100)
    industry = fields.CharField(max_length=100, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "supervisor_group"
        unique_together = (("jurisdiction", "name"),)


class Person(Model):
    """The personal data shared by applications and supervisors (abstract)."""

    name = fields.CharField(max_length=50)
    phone = fields.CharField(max_length=20)
    id_number_encrypted = fields.TextField()
    id_number_masked = fields.CharField(max_length=18)
    id_number_digest = fields.CharField(max_length=64, db_index=True)
    gender = fields.CharEnumField(Gender, max_length=8, null=True)
    birth_year = fields.IntField(null=True)
    category = fields.CharEnumField(Category, max_length=16)
    is_small_micro = fields.BooleanField(default=False)
    is_npc_deputy = fields.BooleanField(default=False)
    is_cppcc_member = fields.BooleanField(default=False)
    unit = fields.CharField(max_length=200)
    recommending_unit = fields.CharField(max_length=200, default="")
    industry = fields.CharField(max_length=100, default="")
    is_special = fields.BooleanField(default=False)
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)

    class Meta:
        abstract = True


class Supervisor(Person):
    """A supervisor of a home jurisdiction (属地), with the current term."""

    id = fields.IntField(primary_key=True)
    jurisdiction: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="supervisors", on_delete=fields.RESTRICT)
    jurisdiction_id: int  # set by Tortoise from `jurisdiction`
    account: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.Account", related_name="supervisor", null=True, unique=True,
        on_delete=fields.RESTRICT)
    account_id: int | None  # set by Tortoise from `account`
    group: fields.ForeignKeyNullableRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="members", null=True, on_delete=fields.SET_NULL)
    group_id: int | None  # set by Tortoise from `group`
    status = fields.CharEnumField(Status, max_length=16, default=Status.ACTIVE)
    term_start = fields.DateField()
    term_end = fields.DateField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "supervisor"
        indexes = (("jurisdiction_id", "status", "id"), ("status", "term_end"))


class SupervisorEvent(Model):
    """One step of a supervisor's history: who did what, when, from which status to which."""

    id = fields.BigIntField(primary_key=True)
    supervisor: fields.ForeignKeyRelation[Supervisor] = fields.ForeignKeyField(
        "models.Supervisor", related_name="events", on_delete=fields.RESTRICT)
    supervisor_id: int  # set by Tortoise from `supervisor`
    kind = fields.CharField(max_length=32)
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=64)
    from_status = fields.CharField(max_length=16, null=True)
    to_status = fields.CharField(max_length=16, null=True)
    note = fields.TextField(default="")
    detail: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "supervisor_event"
        indexes = (("supervisor_id", "id"), ("supervisor_id", "kind"))


class ApplicationPath(StrEnum):
    APPLICATION = "APPLICATION"  # R1.4 path A: personal application with unit recommendation
    NOMINATION = "NOMINATION"    # R1.5 path B: joint nomination by three supervisors


class ApplicationStatus(StrEnum):
    COLLECTING = "COLLECTING"  # a nomination waiting for its co-signers
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class Application(Person):
    """An application (path A) or a nomination (path B) awaiting the office's review."""

    id = fields.IntField(primary_key=True)
    jurisdiction: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="applications", on_delete=fields.RESTRICT)
    jurisdiction_id: int  # set by Tortoise from `jurisdiction`
    path = fields.CharEnumField(ApplicationPath, max_length=16)
    status = fields.CharEnumField(ApplicationStatus, max_length=16)
    statements: dict[str, str] = fields.JSONField(default=dict)
    recommending_contact = fields.CharField(max_length=100, default="")
    recommendation = fields.TextField(default="")
    nominated_by: fields.ForeignKeyNullableRelation[Supervisor] = fields.ForeignKeyField(
        "models.Supervisor", related_name="nominations", null=True, on_delete=fields.RESTRICT)
    nominated_by_id: int | None  # set by Tortoise from `nominated_by`
    findings: dict[str, str] = fields.JSONField(default=dict)
    review_note = fields.TextField(default="")
    reviewed_by = fields.CharField(max_length=64, null=True)
    reviewed_at = fields.DatetimeField(null=True)
    supervisor: fields.ForeignKeyNullableRelation[Supervisor] = fields.ForeignKeyField(
        "models.Supervisor", related_name="application", null=True, on_delete=fields.RESTRICT)
    supervisor_id: int | None  # set by Tortoise from `supervisor`
    submitted_at = fields.DatetimeField()

    class Meta:
        table = "application"
        indexes = (("jurisdiction_id", "status", "id"),)


class Endorsement(Model):
    """R1.5: one supervisor's signature on a nomination (the nominator signs first)."""

    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="endorsements", on_delete=fields.CASCADE)
    application_id: int  # set by Tortoise from `application`
    supervisor: fields.ForeignKeyRelation[Supervisor] = fields.ForeignKeyField(
        "models.Supervisor", related_name="endorsements", on_delete=fields.RESTRICT)
    supervisor_id: int  # set by Tortoise from `supervisor`
    at = fields.DatetimeField()

    class Meta:
        table = "endorsement"
        unique_together = (("application", "supervisor"),)


class Filing(Model):
    """R1.6: the provincial filing of one term, and the electronic certificate issued for it."""

    id = fields.IntField(primary_key=True)
    supervisor: fields.ForeignKeyRelation[Supervisor] = fields.ForeignKeyField(
        "models.Supervisor", related_name="filings", on_delete=fields.RESTRICT)
    supervisor_id: int  # set by Tortoise from `supervisor`
    term_start = fields.DateField()
    term_end = fields.DateField()
    requested_at = fields.DatetimeField()
    filing_number = fields.CharField(max_length=64, null=True, unique=True)
    certificate_number = fields.CharField(max_length=64, null=True, unique=True)
    certificate_token = fields.TextField(null=True)
    filed_at = fields.DatetimeField(null=True)
    filed_by = fields.CharField(max_length=64, null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "filing"
        indexes = (("filed_at", "id"),)


class DisciplineKind(StrEnum):
    """R4.5 / R2.5: the ladder, from criticism to removal and legal referral."""

    CRITICISM = "CRITICISM"
    REMINDER = "REMINDER"
    WARNING = "WARNING"
    REMOVAL = "REMOVAL"
    LEGAL_REFERRAL = "LEGAL_REFERRAL"


class Violation(StrEnum):
    """Which duty of R4 a disciplined act broke."""

    PRIVATE_GAIN = "PRIVATE_GAIN"    # R4.1: using the role for private gain
    GIFTS = "GIFTS"                  # R4.2: meals, gifts, money, securities, entertainment
    OVERREACH = "OVERREACH"          # R4.3: investigating, inspecting or deciding
    LEAK = "LEAK"                    # R4.4: leaking or publishing what was reported
    NEGLECT = "NEGLECT"              # R9.4: neglect of duty
    OTHER = "OTHER"


class Discipline(Model):
    id = fields.IntField(primary_key=True)
    supervisor: fields.ForeignKeyRelation[Supervisor] = fields.ForeignKeyField(
        "models.Supervisor", related_name="disciplines", on_delete=fields.RESTRICT)
    supervisor_id: int  # set by Tortoise from `supervisor`
    kind = fields.CharEnumField(DisciplineKind, max_length=16)
    violation = fields.CharEnumField(Violation, max_length=16, default=Violation.OTHER)
    reason = fields.TextField()
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=64)
    corrected_at = fields.DatetimeField(null=True)

    class Meta:
        table = "discipline"
        indexes = (("supervisor_id", "kind"),)


class FirmSize(StrEnum):
    MICRO = "MICRO"
    SMALL = "SMALL"
    MEDIUM = "MEDIUM"
    LARGE = "LARGE"


class ContactFirm(Model):
    """R5.2: an enterprise, other than their own unit, that a supervisor keeps contact with."""

    id = fields.IntField(primary_key=True)
    supervisor: fields.ForeignKeyRelation[Supervisor] = fields.ForeignKeyField(
        "models.Supervisor", related_name="contact_firms", on_delete=fields.RESTRICT)
    supervisor_id: int  # set by Tortoise from `supervisor`
    name = fields.CharField(max_length=200)
    credit_code = fields.CharField(max_length=18)
    industry = fields.CharField(max_length=100, default="")
    size = fields.CharEnumField(FirmSize, max_length=8)
    linked_at = fields.DatetimeField()
    unlinked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "contact_firm"
        indexes = (("supervisor_id", "unlinked_at"),)
