"""schema/arguments.py converts a field's raw arguments into what strawberry's own conversion
gives: the same input objects, with absent fields at their defaults and nulls kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from strawberry.schema.schema import Schema
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField
from strawberry.types.unset import UNSET

from core.cases.models import State
from core.roster.models import Category, Status
from schema.arguments import Unconverted, arguments, converter
from schema.schema import build_schema


@pytest.fixture(scope="module")
def schema() -> Schema:
    return build_schema(production=False)


def _field(schema: Schema, type_name: str, name: str) -> StrawberryField:
    definition = schema.get_type_by_name(type_name)
    assert definition is not None
    return next(f for f in definition.fields  # type: ignore[union-attr]
                if schema.config.name_converter.get_graphql_name(f) == name)


RAW: list[tuple[str, str, dict[str, Any]]] = [
    ("Query", "supervisors", {}),
    ("Query", "supervisors", {"filter": None, "first": 3, "after": None}),
    ("Query", "supervisors", {"filter": {"status": Status.ACTIVE, "category": Category.MEDIA,
                                         "isSpecial": False, "search": None}, "first": 5}),
    ("Query", "supervisors", {"filter": {"jurisdiction": "jl.th.dc", "group": "7"}}),
    ("Query", "cases", {"filter": {"state": State.TRANSFERRED, "mine": False,
                                   "from": datetime(2020, 1, 1, tzinfo=UTC)}, "first": 2}),
    ("Query", "cases", {"filter": {"mine": True, "to": None}}),
    ("Query", "case", {"id": "12"}),
    ("Query", "oversightStats", {"jurisdiction": "jl.th", "from": None}),
    ("Mutation", "markNotificationsRead", {"ids": ["1", "2"]}),
    ("Mutation", "markNotificationsRead", {"ids": None}),
    ("Mutation", "setAssessmentPolicy", {"jurisdiction": "jl.th", "weights": [0.5, 0.5],
                                         "thresholds": [60.0, 80.0]}),
]


@pytest.mark.parametrize(("type_name", "name", "raw"), RAW)
def test_conversion_is_strawberry_s(schema: Schema, type_name: str, name: str,
                                    raw: dict[str, Any]) -> None:
    field = _field(schema, type_name, name)
    ours = arguments(field, schema)(raw)
    theirs = convert_arguments(raw, field.arguments,
                               scalar_registry=schema.schema_converter.scalar_registry,
                               config=schema.config)
    assert ours == theirs
    assert {k: type(v) for k, v in ours.items()} == {k: type(v) for k, v in theirs.items()}


def test_lists_are_copies(schema: Schema) -> None:
    field = _field(schema, "Mutation", "markNotificationsRead")
    shared = ["1"]
    converted = arguments(field, schema)({"ids": shared})
    assert converted["ids"] == shared and converted["ids"] is not shared


def test_null_and_unset_pass_at_every_level(schema: Schema) -> None:
    field = _field(schema, "Query", "supervisors")
    convert = converter(next(a for a in field.arguments if a.python_name == "filter").type,
                        schema)
    assert convert(None) is None and convert(UNSET) is UNSET


def test_what_is_not_mirrored_is_refused(schema: Schema) -> None:
    from strawberry.relay import GlobalID

    with pytest.raises(Unconverted):
        converter(GlobalID, schema)
