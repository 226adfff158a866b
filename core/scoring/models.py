"""Points, assessments and the proposals they lead to. The ledger is append-only."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class PointEvent(StrEnum):
    REPORT_SUBMITTED = "REPORT_SUBMITTED"
    REPORT_SUBSTANTIATED = "REPORT_SUBSTANTIATED"
    MAJOR_LEAD_SUBSTANTIATED = "MAJOR_LEAD_SUBSTANTIATED"
    SUGGESTION_ADOPTED = "SUGGESTION_ADOPTED"
    INQUIRY_ANSWERED = "INQUIRY_ANSWERED"
    SUPERVISION_RECORD_FILED = "SUPERVISION_RECORD_FILED"
    ACTIVITY_ATTENDED = "ACTIVITY_ATTENDED"
    TRAINING_COMPLETED = "TRAINING_COMPLETED"
    ASSISTANCE_COMPLETED = "ASSISTANCE_COMPLETED"
    CONTACT_FIRM_LINKED = "CONTACT_FIRM_LINKED"
    DISCIPLINE = "DISCIPLINE"
    ADJUSTMENT = "ADJUSTMENT"


class PointEntry(Model):
    """One award or deduction. `source` names the event, so that it never scores twice."""

    id = fields.BigIntField(primary_key=True)
    supervisor: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Supervisor", related_name="points", on_delete=fields.RESTRICT)
    supervisor_id: int  # set by Tortoise from `supervisor`
    event = fields.CharEnumField(PointEvent, max_length=32)
    points = fields.IntField()
    source = fields.CharField(max_length=64, unique=True)
    reason = fields.CharField(max_length=300, default="")
    actor = fields.CharField(max_length=64)
    at = fields.DatetimeField()

    class Meta:
        table = "point_entry"
        indexes = (("supervisor_id", "id"), ("supervisor_id", "at"))


class PendingPoints(Model):
    """R4.4: a case's points, held until its local day has ended and then credited to the
    ledger with that day for its time, the day's credits in random order (points.credit_days):
    a ledger entry at a case's own time, or in the order of the cases, would name the reporter
    to anyone who reads both the ledger and the shared cases."""

    id = fields.BigIntField(primary_key=True)
    supervisor: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Supervisor", related_name="pending_points", on_delete=fields.RESTRICT)
    supervisor_id: int  # set by Tortoise from `supervisor`
    event = fields.CharEnumField(PointEvent, max_length=32)
    default_points = fields.IntField()
    source = fields.CharField(max_length=64, unique=True)
    actor = fields.CharField(max_length=64)
    at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "pending_points"
        indexes = (("supervisor_id", "id"),)


class PointRule(Model):
    """A jurisdiction's own points for an event (else its parent's, else the defaults)."""

    id = fields.IntField(primary_key=True)
    jurisdiction: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="point_rules", on_delete=fields.CASCADE)
    jurisdiction_id: int  # set by Tortoise from `jurisdiction`
    event = fields.CharEnumField(PointEvent, max_length=32)
    points = fields.IntField()

    class Meta:
        table = "point_rule"
        unique_together = (("jurisdiction", "event"),)


class Grade(StrEnum):
    EXCELLENT = "EXCELLENT"
    COMPETENT = "COMPETENT"
    BASIC = "BASIC"
    INCOMPETENT = "INCOMPETENT"


class Assessment(Model):
    """R9.1: one jurisdiction's assessment of one half-year."""

    id = fields.IntField(primary_key=True)
    jurisdiction: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="assessments", on_delete=fields.RESTRICT)
    jurisdiction_id: int  # set by Tortoise from `jurisdiction`
    period = fields.CharField(max_length=8)
    weights: list[float] = fields.JSONField()
    thresholds: list[float] = fields.JSONField()
    run_at = fields.DatetimeField()
    finalized_at = fields.DatetimeField(null=True)
    finalized_by = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "assessment"
        unique_together = (("jurisdiction", "period"),)


class AssessmentPolicy(Model):
    """A jurisdiction's own weights and grade thresholds (else the documented defaults)."""

    id = fields.IntField(primary_key=True)
    jurisdiction: fields.OneToOneRelation[Any] = fields.OneToOneField(
        "models.Jurisdiction", related_name="assessment_policy", on_delete=fields.CASCADE)
    weights: list[float] = fields.JSONField()
    thresholds: list[float] = fields.JSONField()

    class Meta:
        table = "assessment_policy"


class AssessmentResult(Model):
    """R9.2: one supervisor's five criteria, score and grade in an assessment."""

    id = fields.IntField(primary_key=True)
    assessment: fields.ForeignKeyRelation[Assessment] = fields.ForeignKeyField(
        "models.Assessment", related_name="results", on_delete=fields.CASCADE)
    assessment_id: int  # set by Tortoise from `assessment`
    supervisor: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Supervisor", related_name="assessment_results", on_delete=fields.RESTRICT)
    supervisor_id: int  # set by Tortoise from `supervisor`
    approval_records = fields.IntField()   # criterion 1
    firm_records = fields.IntField()       # criterion 2
    attendance_rate = fields.FloatField()  # criterion 3
    points = fields.IntField()             # criterion 4
    suggestions = fields.IntField()        # criterion 5, with …
    disciplines = fields.IntField()        # … discipline and lawfulness
    score = fields.FloatField()
    grade = fields.CharEnumField(Grade, max_length=16)
    adjusted_score = fields.FloatField(null=True)
    adjusted_grade = fields.CharEnumField(Grade, max_length=16, null=True)
    adjust_reason = fields.CharField(max_length=300, null=True)

    class Meta:
        table = "assessment_result"
        unique_together = (("assessment", "supervisor"),)


class ProposalKind(StrEnum):
    REWARD = "REWARD"      # R9.3
    REMINDER = "REMINDER"  # R9.4, R2.5
    WARNING = "WARNING"


class ProposalStatus(StrEnum):
    PROPOSED = "PROPOSED"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"


class Proposal(Model):
    """A reward or penalty the platform proposes and the office confirms or rejects."""

    id = fields.IntField(primary_key=True)
    supervisor: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Supervisor", related_name="proposals", on_delete=fields.RESTRICT)
    supervisor_id: int  # set by Tortoise from `supervisor`
    kind = fields.CharEnumField(ProposalKind, max_length=16)
    reason = fields.CharField(max_length=300)
    source = fields.CharField(max_length=64, unique=True)
    status = fields.CharEnumField(ProposalStatus, max_length=16,
                                  default=ProposalStatus.PROPOSED)
    created_at = fields.DatetimeField()
    decided_by = fields.CharField(max_length=64, null=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "proposal"
        indexes = (("supervisor_id", "status"),)
