"""What one document may ask: its cost, computed from the document alone before anything runs
(a validation rule, so it is decided once per text and kept with the validation). Each field
costs its weight; a list costs its items' cost times the page asked for (`first`, a variable's
default, else the largest page) or, without one, LIST_ITEMS; expensive fields weigh more.
Over MAX_COST the document is refused with COST_LIMIT_EXCEEDED, its cost and the maximum in
the error's extensions."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

from core.pagination import MAX_PAGE

MAX_COST = 10_000
LIST_ITEMS = 10  # a list without a page: a case's history, a trainings' topics
# Lists whose size is known better: a jurisdiction's children, summed over any level of the
# tree, are at most the tree, so one child a node on average.
LIST_SIZES: dict[tuple[str, str], int] = {("Jurisdiction", "children"): 1}
# A cost is reported up to this (a deep document's can pass any integer JSON can carry).
REPORTED_UP_TO = 10**12
# Fields whose answer costs far more than reading a row: rendering, aggregates, whole lists.
WEIGHTS: dict[tuple[str, str], int] = {
    ("Certificate", "qrSvg"): 50,
    ("Query", "jurisdictionScorecards"): 100,
    ("Query", "compositionReports"): 50,
    ("Query", "oversightStats"): 20,
    ("Query", "trainingStatus"): 200,
    ("Query", "supervisorsWithoutContactFirm"): 200,
}


class _Walk:
    def __init__(self, operation: OperationDefinitionNode,
                 fragments: dict[str, FragmentDefinitionNode], schema: Any) -> None:
        self.defaults = {d.variable.name.value: d.default_value
                         for d in operation.variable_definitions or ()}
        self.fragments, self.schema = fragments, schema

    def page(self, node: FieldNode, field: GraphQLField) -> int | None:
        """The page a connection field asks for; None for a field without `first`."""
        if "first" not in field.args:
            return None
        given = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
        if given is None:  # the field's own default
            default = field.args["first"].default_value
            return default if isinstance(default, int) else MAX_PAGE
        if isinstance(given, VariableNode):  # its default, or whatever the caller sends
            given = self.defaults.get(given.name.value)
        if isinstance(given, IntValueNode):
            return max(0, min(int(given.value), MAX_PAGE))
        return MAX_PAGE

    def selections(self, type_: Any, selection_set: SelectionSetNode, page: int | None,
                   spreading: frozenset[str]) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(type_, selection, page, spreading)
            elif isinstance(selection, InlineFragmentNode):
                inner = (self.schema.get_type(selection.type_condition.name.value)
                         if selection.type_condition else type_)
                total += self.selections(inner, selection.selection_set, page, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in spreading:  # cycles: refused anyway
                    inner = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selections(inner, fragment.selection_set, page,
                                             spreading | {name})
        return total

    def field(self, parent: Any, node: FieldNode, page: int | None,
              spreading: frozenset[str]) -> int:
        if node.name.value.startswith("__") or not isinstance(
                parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        field = parent.fields.get(node.name.value)
        if field is None:
            return 0  # reported by graphql-core's own rules
        weight = WEIGHTS.get((parent.name, node.name.value), 1)
        if node.selection_set is None:
            return weight
        times = (page or LIST_SIZES.get((parent.name, node.name.value), LIST_ITEMS)
                 if is_list_type(get_nullable_type(field.type)) else 1)
        inner = self.selections(get_named_type(field.type), node.selection_set,
                                self.page(node, field), spreading)
        return weight + times * inner


def cost_of(operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode],
            schema: Any) -> int:
    root = {"query": schema.query_type, "mutation": schema.mutation_type,
            "subscription": schema.subscription_type}[operation.operation.value]
    return _Walk(operation, fragments, schema).selections(root, operation.selection_set, None,
                                                          frozenset())


class CostLimit(ValidationRule):
    """Refuses an operation whose cost passes MAX_COST (COST_LIMIT_EXCEEDED)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        document = self.context.document
        fragments = {d.name.value: d for d in document.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        cost = min(cost_of(node, fragments, self.context.schema), REPORTED_UP_TO)
        if cost > MAX_COST:
            self.report_error(GraphQLError(
                f"The document costs {cost}, more than the {MAX_COST} one request may ask: "
                "ask for smaller pages, fewer aliases or fewer expensive fields", node,
                extensions={"code": "COST_LIMIT_EXCEEDED", "cost": cost,
                            "maximum": MAX_COST}))
