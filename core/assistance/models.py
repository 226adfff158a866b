"""Assistance requests and the offers made to supervisors, round by round."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class Source(StrEnum):
    SUPERVISOR = "SUPERVISOR"  # R6.1: a supervisor on duty needs a witness
    PUBLIC = "PUBLIC"          # R6.2: a complainant facing an ongoing incident


class RequestState(StrEnum):
    OFFERING = "OFFERING"
    ACCEPTED = "ACCEPTED"
    ARRIVED = "ARRIVED"
    CLOSED = "CLOSED"
    UNANSWERED = "UNANSWERED"  # every round passed; the handling office was alerted


class OfferState(StrEnum):
    OFFERED = "OFFERED"
    ACCEPTED = "ACCEPTED"
    RETRACTED = "RETRACTED"  # taken by someone else, or the request ended


class AssistanceRequest(Model):
    id = fields.IntField(primary_key=True)
    tracking_code = fields.CharField(max_length=16, unique=True)
    source = fields.CharEnumField(Source, max_length=16)
    jurisdiction: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="assistance_requests", on_delete=fields.RESTRICT)
    jurisdiction_id: int  # set by Tortoise from `jurisdiction`
    requester: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.Supervisor", related_name="assistance_requested", null=True,
        on_delete=fields.RESTRICT)
    requester_id: int | None  # set by Tortoise from `requester`
    requester_name = fields.CharField(max_length=50, default="")
    requester_phone = fields.CharField(max_length=20, default="")
    latitude = fields.FloatField()
    longitude = fields.FloatField()
    address = fields.CharField(max_length=200)
    description = fields.TextField()
    state = fields.CharEnumField(RequestState, max_length=16, default=RequestState.OFFERING)
    round = fields.IntField(default=0)
    radius_km = fields.FloatField()
    next_round_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    accepted_by: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.Supervisor", related_name="assistance_accepted", null=True,
        on_delete=fields.RESTRICT)
    accepted_by_id: int | None  # set by Tortoise from `accepted_by`
    accepted_at = fields.DatetimeField(null=True)
    arrived_at = fields.DatetimeField(null=True)
    arrival_distance_m = fields.FloatField(null=True)
    closed_at = fields.DatetimeField(null=True)
    report = fields.TextField(default="")

    class Meta:
        table = "assistance_request"
        indexes = (("state", "next_round_at"), ("jurisdiction_id", "id"))


class AssistanceOffer(Model):
    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[AssistanceRequest] = fields.ForeignKeyField(
        "models.AssistanceRequest", related_name="offers", on_delete=fields.CASCADE)
    request_id: int  # set by Tortoise from `request`
    supervisor: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Supervisor", related_name="assistance_offers", on_delete=fields.RESTRICT)
    supervisor_id: int  # set by Tortoise from `supervisor`
    round = fields.IntField()
    distance_m = fields.FloatField()
    state = fields.CharEnumField(OfferState, max_length=16, default=OfferState.OFFERED)
    offered_at = fields.DatetimeField()

    class Meta:
        table = "assistance_offer"
        unique_together = (("request", "supervisor"),)
        indexes = (("supervisor_id", "state"),)
