"""What a GraphQL document costs, counted on the document as it would execute.

Every field selected counts 1. A list of objects counts its selection once per item it
may hold: a field that takes `first` holds `first` items (its default when not given; the
lists directly inside it, a connection's `edges`, take that length), any other list of
objects (a goal's key results, its children) `list_length` items. Fragments
are expanded where they are spread, as execution expands them, but each fragment's cost
is computed once and remembered, so counting is linear in the document's size however
often a fragment is spread (a chain of fragments spreading the next one twice doubles the
work of executing it at every level; counting it takes one step a level).

The count runs before graphql-core's validation and on any document that parsed: unknown
fields and fragments count as what they are written as (validation reports them next),
and a fragment spread inside itself counts nothing more (validation refuses it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)

# Past this, a cost is only "too much": numbers stay machine-sized and JSON-safe.
CEILING = 10**15
PAGE_ARGUMENT = "first"


@dataclass(frozen=True)
class Cost:
    """`total` of the operation, and how many mutation fields it runs (aliases included)."""

    total: int
    mutation_fields: int = 0


@dataclass
class _Counter:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, object]
    defaults: Mapping[str, object]
    default_page: int
    list_length: int
    # (fragment, length of the lists directly in it) -> its cost; None while being counted.
    known: dict[tuple[str, int], int | None] = field(default_factory=dict)

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, length: int
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, length)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = parent if condition is None else self.schema.get_type(condition.name.value)
                total += self.selections(selection.selection_set, inner, length)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, length)
            if total >= CEILING:
                return CEILING
        return total

    def fragment(self, name: str, length: int) -> int:
        key = (name, length)
        if key in self.known:
            return self.known[key] or 0  # None: spread inside itself
        definition = self.fragments.get(name)
        if definition is None:
            return 0
        self.known[key] = None
        condition = self.schema.get_type(definition.type_condition.name.value)
        cost = self.selections(definition.selection_set, condition, length)
        self.known[key] = cost
        return cost

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, length: int) -> int:
        if node.selection_set is None:
            return 1
        definition = _field_of(parent, node.name.value)
        output = None if definition is None else definition.type
        inner = _named(output)
        page = self.page(node, definition)
        listed = _is_list(output)
        if page is not None and not listed:
            # A page object (a connection): the lists directly in it hold `page` items.
            return _capped(1 + self.selections(node.selection_set, inner, page))
        below = self.selections(node.selection_set, inner, self.list_length)
        if listed:
            return _capped(1 + (length if page is None else page) * below)
        return _capped(1 + below)

    def page(self, node: FieldNode, definition: GraphQLField | None) -> int | None:
        """The field's `first`, as given, through a variable, or by default; None: no page."""
        argument = None if definition is None else definition.args.get(PAGE_ARGUMENT)
        given = next((a.value for a in node.arguments or () if a.name.value == PAGE_ARGUMENT), None)
        if argument is None and given is None:
            return None
        value: object = None
        if isinstance(given, IntValueNode):
            value = int(given.value)
        elif isinstance(given, VariableNode):
            name = given.name.value
            value = self.variables.get(name, self.defaults.get(name))
        if value is None and argument is not None:
            value = argument.default_value
        if isinstance(value, int) and not isinstance(value, bool):
            return min(max(value, 0), CEILING)
        return self.default_page


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, object] | None = None,
    default_page: int = 50,
    list_length: int = 10,
) -> Cost:
    """The cost of the operation that would run (0 when the document names none)."""
    operation = _operation(document, operation_name)
    if operation is None:
        return Cost(0)
    counter = _Counter(
        schema,
        {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)},
        variables or {},
        _variable_defaults(operation),
        default_page,
        list_length,
    )
    root = schema.get_root_type(operation.operation)
    total = counter.selections(operation.selection_set, root, list_length)
    mutations = (
        len(_root_fields(counter, operation.selection_set, set()))
        if operation.operation is OperationType.MUTATION
        else 0
    )
    return Cost(total, mutations)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)


def _variable_defaults(operation: OperationDefinitionNode) -> dict[str, object]:
    defaults: dict[str, object] = {}
    for definition in operation.variable_definitions or ():
        value = definition.default_value
        if isinstance(value, IntValueNode):
            defaults[definition.variable.name.value] = int(value.value)
    return defaults


def _root_fields(counter: _Counter, selection_set: SelectionSetNode, seen: set[str]) -> set[str]:
    """The response names at the root, through fragments: each one a mutation that runs
    (fields of one name are merged into one by execution, and so counted once)."""
    names: set[str] = set()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value != "__typename":
                names.add((selection.alias or selection.name).value)
        elif isinstance(selection, InlineFragmentNode):
            names |= _root_fields(counter, selection.selection_set, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            definition = counter.fragments.get(name)
            if definition is not None and name not in seen:
                seen.add(name)
                names |= _root_fields(counter, definition.selection_set, seen)
    return names


def _field_of(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _named(output: GraphQLOutputType | None) -> GraphQLNamedType | None:
    while isinstance(output, GraphQLList | GraphQLNonNull):
        output = output.of_type
    return output


def _is_list(output: GraphQLOutputType | None) -> bool:
    if isinstance(output, GraphQLNonNull):
        output = output.of_type
    return isinstance(output, GraphQLList)


def _capped(cost: int) -> int:
    return min(cost, CEILING)
