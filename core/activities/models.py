"""Activities, who takes part, and which agencies an inspection or visit targets."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class ActivityKind(StrEnum):
    TRAINING = "TRAINING"                    # R8.1
    FORUM = "FORUM"                          # R7.4 座谈会
    INSPECTION = "INSPECTION"
    UNANNOUNCED_VISIT = "UNANNOUNCED_VISIT"  # 明察暗访: hidden from every agency
    RESEARCH = "RESEARCH"
    EVALUATION = "EVALUATION"
    HEARING = "HEARING"                      # R5.3: supervisors seated first


class Audience(StrEnum):
    JURISDICTION = "JURISDICTION"  # every active supervisor of the organising jurisdiction
    SPECIAL = "SPECIAL"            # the city's special supervisors
    GROUP = "GROUP"                # one R7.4 group
    OPEN = "OPEN"                  # supervisors apply (R5.3)


class Topic(StrEnum):
    """R8.1: what trainings cover."""

    PURPOSE = "PURPOSE"
    CONDITIONS = "CONDITIONS"
    DUTIES_AND_DISCIPLINE = "DUTIES_AND_DISCIPLINE"
    HOW_TO_SUPERVISE = "HOW_TO_SUPERVISE"
    PLATFORM_USE = "PLATFORM_USE"


class ParticipationStatus(StrEnum):
    INVITED = "INVITED"
    APPLIED = "APPLIED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"


class Attendance(StrEnum):
    """Criterion 3 of R9.2."""

    ATTENDED = "ATTENDED"
    EXCUSED = "EXCUSED"
    ABSENT = "ABSENT"


class Activity(Model):
    id = fields.IntField(primary_key=True)
    jurisdiction: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="activities", on_delete=fields.RESTRICT)
    jurisdiction_id: int  # set by Tortoise from `jurisdiction`
    kind = fields.CharEnumField(ActivityKind, max_length=24)
    title = fields.CharField(max_length=200)
    place = fields.CharField(max_length=200, default="")
    start_at = fields.DatetimeField()
    end_at = fields.DatetimeField()
    capacity = fields.IntField()
    audience = fields.CharEnumField(Audience, max_length=16)
    group: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.Group", related_name="activities", null=True, on_delete=fields.RESTRICT)
    group_id: int | None  # set by Tortoise from `group`
    topics: list[str] = fields.JSONField(default=list)
    checkin_code = fields.CharField(max_length=8)
    guests = fields.IntField(default=0)  # HEARING seats given to others than supervisors
    organiser = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "activity"
        indexes = (("jurisdiction_id", "start_at"), ("kind", "start_at"))


class ActivityTarget(Model):
    """An agency an inspection or unannounced visit looks at."""

    id = fields.IntField(primary_key=True)
    activity: fields.ForeignKeyRelation[Activity] = fields.ForeignKeyField(
        "models.Activity", related_name="targets", on_delete=fields.CASCADE)
    activity_id: int  # set by Tortoise from `activity`
    agency: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Agency", related_name="activity_targets", on_delete=fields.RESTRICT)
    agency_id: int  # set by Tortoise from `agency`

    class Meta:
        table = "activity_target"
        unique_together = (("activity", "agency"),)


class Participation(Model):
    id = fields.IntField(primary_key=True)
    activity: fields.ForeignKeyRelation[Activity] = fields.ForeignKeyField(
        "models.Activity", related_name="participants", on_delete=fields.CASCADE)
    activity_id: int  # set by Tortoise from `activity`
    supervisor: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Supervisor", related_name="participations", on_delete=fields.RESTRICT)
    supervisor_id: int  # set by Tortoise from `supervisor`
    status = fields.CharEnumField(ParticipationStatus, max_length=16)
    attendance = fields.CharEnumField(Attendance, max_length=16, null=True)
    checked_in_at = fields.DatetimeField(null=True)
    recorded_by = fields.CharField(max_length=64, null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "participation"
        unique_together = (("activity", "supervisor"),)
        indexes = (("supervisor_id", "activity_id"),)
