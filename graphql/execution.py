"""Execution with a fast path for plain attributes: the per-field cost of big trees.

graphql-core completes every field of every object through the same general machinery
(resolve info, path, awaitable checks, completion by type), which on an okrTree of
55,000 fields is most of the time a read takes. Most of those fields are plain
attributes of our types: strawberry's basic fields (no resolver, no permission, no
extension), holding a scalar, an enum, or further plain objects. For those, the value
is the attribute, serialised by its type; this context computes them so.

Anything else (a resolver, arguments, an abstract type, an `is_type_of` check, a null
where the type forbids it, a value its type refuses) leaves the field to graphql-core,
which then reports errors exactly as it always does. The fast path has no side effects,
so a field it gives up on is simply executed again the usual way.

Subscriptions: graphql-core executes the selection once per event for each subscriber.
Where an event's payload is one object shared by every subscriber of its tenant (a type
marked `shared_by_subscribers`, whose fields are plain attributes) and the selection
under the subscription field uses no variables, the result depends only on the event
and the document, so it is executed once per event and document for all of them.

Each selected object type gets a function made for its selected fields (compiled once
per selection), and leaves whose value is of a type known to serialise alike (an enum
member, a string, a UUID, a Decimal, a datetime) skip the general checks. The cycle
collector waits while an answer is built: its objects all live until it is sent.
"""

from __future__ import annotations

import keyword
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from types import CodeType
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
    OperationDefinitionNode,
    Undefined,
    VariableNode,
    Visitor,
    visit,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from okrledger.projections.collector import collector_paused

Serialize = Callable[[Any], Any]


class _Slow(Exception):
    """The fast path gives up on a field; graphql-core executes it instead."""


@dataclass(frozen=True)
class _Leaf:
    serialize: Serialize
    nullable: bool
    # Exact types of value this leaf serialises by a function known to give what
    # `serialize` gives, never null: filled up front (enums, strings) or on the first
    # value of a type for serialisers that treat every value of a type alike.
    fast: dict[type, Serialize]
    learns: bool


@dataclass(frozen=True)
class _Object:
    fields: tuple[_Field, ...]
    nullable: bool
    # The object's fields from a source, as one function made for exactly these fields.
    fill: Callable[[Any], dict[str, Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fill", _filler(self.fields))


@dataclass(frozen=True)
class _List:
    item: _Leaf | _Object | _List
    nullable: bool


@dataclass(frozen=True)
class _Field:
    response_name: str
    attribute: str | None  # None: __typename
    typename: str
    completion: _Leaf | _Object | _List | None  # None: __typename


_Completion = _Leaf | _Object | _List
_SLOW = _Slow()
_SEQUENCES = (list, tuple)
# Serialisers that give the same kind of answer for every value of a type (or refuse
# the type): once one value of a type passes, the others of that type pass too.
_TYPE_WISE: frozenset[Callable[..., Any]] = frozenset({str, datetime.isoformat, date.isoformat})


# Kept on the payload itself ({id(operation): (operation, its result)}), so the results
# go with it.
_EXECUTED = "_executed_by_document"


class _UsesVariables(Visitor):
    found = False

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        self.found = True


_judged: dict[int, tuple[OperationDefinitionNode, bool]] = {}


def _selection_uses_variables(operation: OperationDefinitionNode) -> bool:
    """Whether anything under the operation's root fields (their own arguments aside)
    refers to a variable (an argument, an @include…): such a result is the subscriber's."""
    known = _judged.get(id(operation))
    if known is not None and known[0] is operation:
        return known[1]
    if len(_judged) >= 512:
        _judged.clear()
    uses = _judge(operation)
    _judged[id(operation)] = (operation, uses)
    return uses


def _judge(operation: OperationDefinitionNode) -> bool:
    finder = _UsesVariables()
    for selection in operation.selection_set.selections:
        if selection.directives:
            return True
        below = getattr(selection, "selection_set", None)
        if below is not None:
            visit(below, finder)
        elif not hasattr(selection, "name"):  # a fragment at the root: judge it whole
            visit(selection, finder)
    return finder.found


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, computing plain-attribute fields directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per grouped field set (kept alive with it, so its id is not reused): each field's
        # fast completion, or None where graphql-core must execute it.
        self._plans: dict[int, tuple[GroupedFieldSet, tuple[_Field | None, ...]]] = {}
        self._event: Any = None

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, FastExecutionContext)
        executor._event = payload
        # Each event collects its fields anew; memos keyed by those collections would
        # otherwise grow with every event of a long subscription.
        executor._plans = {}
        executor._relevant_sub_fields = {}
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        payload = self._event
        if not getattr(payload, "shared_by_subscribers", False) or _selection_uses_variables(
            self.operation
        ):
            return super().execute_operation(serially)
        known = payload.__dict__.setdefault(_EXECUTED, {})
        found = known.get(id(self.operation))
        if found is not None and found[0] is self.operation:
            return found[1]
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            return self._keep_shared(known, result)
        if isinstance(result, ExecutionResult) and not result.errors:
            known[id(self.operation)] = (self.operation, result)
        return result

    async def _keep_shared(
        self, known: dict[int, tuple[OperationDefinitionNode, Any]], pending: Awaitable[Any]
    ) -> Any:
        result = await pending
        if isinstance(result, ExecutionResult) and not result.errors:
            known[id(self.operation)] = (self.operation, result)
        return result

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set)
        middleware = self.middleware_manager
        if (middleware is not None and middleware.middlewares) or not any(plan):
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        slow: dict[str, FieldDetailsList] = {}
        with collector_paused():
            for (response_name, details), field in zip(
                grouped_field_set.items(), plan, strict=True
            ):
                if field is not None:
                    try:
                        results[response_name] = _value(field, source_value)
                        continue
                    except Exception:  # _Slow, or a value its type refuses: the usual way
                        pass
                slow[response_name] = details
                results[response_name] = Undefined  # keeps the response's field order
        if not slow:
            return results
        rest = super().execute_fields(parent_type, source_value, path, slow, position_context)
        if isinstance(rest, dict):
            return _merge(results, rest)

        async def merged() -> dict[str, Any]:
            return _merge(results, await rest)

        return merged()

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> tuple[_Field | None, ...]:
        known = self._plans.get(id(grouped_field_set))
        if known is not None and known[0] is grouped_field_set:
            return known[1]
        plan = tuple(
            self._field(parent_type, name, details) for name, details in grouped_field_set.items()
        )
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def _field(
        self, parent_type: GraphQLObjectType, response_name: str, details: FieldDetailsList
    ) -> _Field | None:
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            return _Field(response_name, None, parent_type.name, None)
        field_def = parent_type.fields.get(name)
        if field_def is None or field_def.args or node.arguments:
            return None
        definition = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
            return None
        if definition.default_resolver is not getattr or definition.python_name is None:
            return None
        completion = self._completion(field_def.type, details)
        if completion is None:
            return None
        return _Field(response_name, definition.python_name, parent_type.name, completion)

    def _completion(
        self, graphql_type: GraphQLOutputType, details: FieldDetailsList
    ) -> _Completion | None:
        nullable = not isinstance(graphql_type, GraphQLNonNull)
        inner = graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            return _Leaf(inner.serialize, nullable, _fast_table(inner), _learns(inner.serialize))
        if isinstance(inner, GraphQLList):
            item = self._completion(inner.of_type, details)
            return None if item is None else _List(item, nullable)
        if not isinstance(inner, GraphQLObjectType) or inner.is_type_of is not None:
            return None
        collected = self.collect_subfields(inner, details)
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            return None
        fields = self._plan(inner, collected.grouped_field_set)
        if any(field is None for field in fields):
            return None  # graphql-core completes the object, our fields fast in it again
        return _Object(tuple(f for f in fields if f is not None), nullable)


def _fast_table(graphql_type: GraphQLScalarType | GraphQLEnumType) -> dict[type, Serialize]:
    """What is known up front: enum members by name, and strings and booleans as they are."""
    if isinstance(graphql_type, GraphQLEnumType):
        wrapped = getattr(graphql_type, "wrapped_cls", None)
        if not isinstance(wrapped, type) or not issubclass(wrapped, Enum):
            return {}
        try:
            names = {member: graphql_type.serialize(member) for member in wrapped}
        except Exception:  # an enum it cannot name: each value goes the usual way
            return {}
        if any(not isinstance(name, str) for name in names.values()):
            return {}
        return {wrapped: names.__getitem__}
    if graphql_type.serialize is GraphQLString.serialize:
        return {str: str}
    if graphql_type.serialize is GraphQLBoolean.serialize:
        return {bool: bool}
    return {}


def _learns(serialize: Serialize) -> bool:
    try:
        return serialize in _TYPE_WISE
    except TypeError:  # an unhashable serialiser
        return False


def _value(field: _Field, source: Any) -> Any:
    if field.completion is None:
        return field.typename
    assert field.attribute is not None
    return _complete(field.completion, getattr(source, field.attribute))


def _filler(fields: tuple[_Field, ...]) -> Callable[[Any], dict[str, Any]]:
    """A function computing these fields of a source: the code that runs once per object
    of a big answer, so each field is a few plain statements, with no loop or lookup of
    what to do for it; the answer is one dict display, in the fields' order."""
    names: dict[str, Any] = {"SLOW": _SLOW, "leaf": _leaf, "complete": _complete}
    lines = ["def fill(source):"]
    for n, f in enumerate(fields):
        value = f"v{n}"
        completion = f.completion
        if completion is None:
            names[value] = f.typename
            continue
        assert f.attribute is not None
        if f.attribute.isidentifier() and not keyword.iskeyword(f.attribute):
            lines.append(f"    {value} = source.{f.attribute}")
        else:
            names[f"a{n}"] = f.attribute
            lines.append(f"    {value} = getattr(source, a{n})")
        names[f"c{n}"] = completion
        if not isinstance(completion, _Leaf):
            lines.append(f"    {value} = complete(c{n}, {value})")
            continue
        names[f"f{n}"] = completion.fast
        if completion.nullable:
            lines.append(f"    if {value} is not None:")
        else:
            lines += [f"    if {value} is None:", "        raise SLOW", "    else:"]
        lines += [
            f"        s = f{n}.get(type({value}))",
            f"        {value} = leaf(c{n}, {value}) if s is None else s({value})",
        ]
    answer = ", ".join(f"{f.response_name!r}: v{n}" for n, f in enumerate(fields))
    lines.append(f"    return {{{answer}}}")
    exec(_compiled("\n".join(lines)), names)
    fill: Callable[[Any], dict[str, Any]] = names["fill"]
    return fill


@lru_cache(maxsize=256)
def _compiled(source: str) -> CodeType:
    """The same selection (another request for it) compiles once."""
    return compile(source, "<fast execution>", "exec")


def _leaf(completion: _Leaf, value: Any) -> Any:
    if isinstance(value, Exception):
        raise _SLOW
    serialized = completion.serialize(value)  # a refusal: graphql-core reports it
    if serialized is None or serialized is Undefined:
        raise _SLOW
    if completion.learns and isinstance(serialized, str):
        completion.fast[type(value)] = completion.serialize
    return serialized


def _complete(completion: _Completion, value: Any) -> Any:
    if value is None:
        if completion.nullable:
            return None
        raise _SLOW
    if isinstance(completion, _Leaf):
        serialize = completion.fast.get(type(value))
        return _leaf(completion, value) if serialize is None else serialize(value)
    if isinstance(value, Exception):
        raise _SLOW
    if isinstance(completion, _Object):
        return completion.fill(value)
    if type(value) not in _SEQUENCES and (
        isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable)
    ):
        raise _SLOW
    item = completion.item
    if isinstance(item, _Object):
        fill = item.fill
        return [
            _complete(item, v) if v is None or isinstance(v, Exception) else fill(v) for v in value
        ]
    return [_complete(item, v) for v in value]


def _merge(fast: dict[str, Any], executed: Mapping[str, Any]) -> dict[str, Any]:
    for name in list(fast):
        if fast[name] is Undefined:
            if name in executed:
                fast[name] = executed[name]
            else:
                del fast[name]
    return fast
