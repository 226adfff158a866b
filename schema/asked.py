"""Which fields a query asks of a field's object, for a resolver that reads them together
ahead of its fields (the names through fragments and aliases; skipped ones included)."""

from __future__ import annotations

from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection


def asked(info: Info) -> frozenset[str]:
    """The names of the fields the query selects on the object `info`'s field returns."""
    names: set[str] = set()
    for field in info.selected_fields:
        _names(field.selections, names)
    return frozenset(names)


def _names(selections: list[Selection], names: set[str]) -> None:
    for selection in selections:
        if isinstance(selection, SelectedField):
            names.add(selection.name)
        else:
            _names(selection.selections, names)
