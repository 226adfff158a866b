"""Which fields a query asks of a field's object, for a resolver that reads them together
ahead of its fields (the names through fragments and aliases; skipped ones included)."""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)
from strawberry.types import Info

KEPT = 256  # documents are kept (schema/known.py): so are their answers here
_kept: dict[int, tuple[tuple[FieldNode, ...], frozenset[str]]] = {}


def asked(info: Info) -> frozenset[str]:
    """The names of the fields the query selects on the object `info`'s field returns."""
    raw = info._raw_info
    nodes = tuple(raw.field_nodes)
    found = _kept.get(id(nodes[0]))
    if found is not None and found[0] == nodes:  # the same nodes: the same document
        return found[1]
    names: set[str] = set()
    for node in nodes:
        if node.selection_set is not None:
            _names(node.selection_set, raw.fragments, names)
    if len(_kept) >= KEPT:
        del _kept[next(iter(_kept))]
    _kept[id(nodes[0])] = (nodes, frozenset(names))
    return _kept[id(nodes[0])][1]


def _names(selections: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode],
           names: set[str]) -> None:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            _names(selection.selection_set, fragments, names)
        elif isinstance(selection, FragmentSpreadNode) and (
                selection.name.value in fragments):
            _names(fragments[selection.name.value].selection_set, fragments, names)
