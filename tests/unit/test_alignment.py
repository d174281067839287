from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okrledger.domain.alignment import (
    AlignmentCycle,
    ParentObjectiveArchived,
    ParentObjectiveNotFound,
    SelfAlignment,
    check_alignment,
)
from okrledger.domain.errors import DomainError
from okrledger.domain.objective import Objective

A, B, C, D = (uuid4() for _ in range(4))
CHAIN: dict[UUID, UUID | None] = {A: None, B: A, C: B, D: None}  # C under B under A


def test_detaching_is_always_allowed() -> None:
    check_alignment(C, None, CHAIN)


def test_aligning_under_an_unrelated_objective_is_allowed() -> None:
    check_alignment(D, C, CHAIN)
    check_alignment(C, D, CHAIN)


def test_self_alignment_is_refused() -> None:
    with pytest.raises(SelfAlignment) as caught:
        check_alignment(A, A, CHAIN)
    assert (caught.value.code, caught.value.field) == ("VALIDATION", "parent_id")


@pytest.mark.parametrize(("child", "parent"), [(A, B), (A, C), (B, C)])
def test_aligning_under_a_descendant_is_refused_as_a_cycle(child: UUID, parent: UUID) -> None:
    with pytest.raises(AlignmentCycle, match="would form a cycle") as caught:
        check_alignment(child, parent, CHAIN)
    assert caught.value.code == "INVALID_STATE"


def test_unknown_parent_is_not_found() -> None:
    with pytest.raises(ParentObjectiveNotFound) as caught:
        check_alignment(A, uuid4(), CHAIN)
    assert caught.value.code == "NOT_FOUND"


def test_archived_parent_is_refused() -> None:
    with pytest.raises(ParentObjectiveArchived, match="archived"):
        check_alignment(D, A, CHAIN, archived={A})


def test_a_corrupt_tree_with_a_loop_does_not_hang_the_check() -> None:
    looped: dict[UUID, UUID | None] = {A: B, B: A, C: None}

    check_alignment(C, A, looped)


def is_acyclic(parent_of: dict[UUID, UUID | None]) -> bool:
    for node in parent_of:
        seen: set[UUID] = set()
        current: UUID | None = node
        while current is not None:
            if current in seen:
                return False
            seen.add(current)
            current = parent_of[current]
    return True


operations = st.lists(
    st.tuples(
        st.sampled_from(["align", "archive", "restore"]),
        st.integers(0, 5),
        st.one_of(st.none(), st.integers(0, 5)),
    ),
    max_size=60,
)


@given(operations)
def test_alignment_never_forms_a_cycle(ops: list[tuple[str, int, int | None]]) -> None:
    objectives = [
        Objective.set(
            id=uuid4(), title=f"O{i}", description="", cycle_id=A, owner="a", cycle_closed=False
        )
        for i in range(6)
    ]
    for op, child_index, parent_index in ops:
        child = objectives[child_index]
        parent_id = None if parent_index is None else objectives[parent_index].id
        parent_of = {o.id: o.parent_id for o in objectives}
        archived = {o.id for o in objectives if o.archived}
        try:
            if op == "align":
                child.align(parent_id, parent_of=parent_of, archived=archived)
            elif op == "archive":
                child.archive()
            else:
                child.restore()
        except DomainError:
            pass
        assert is_acyclic({o.id: o.parent_id for o in objectives})


@given(st.lists(st.tuples(st.integers(0, 4), st.one_of(st.none(), st.integers(0, 4)))))
def test_applying_only_accepted_alignments_keeps_any_tree_acyclic(
    moves: list[tuple[int, int | None]],
) -> None:
    ids = [uuid4() for _ in range(5)]
    parent_of: dict[UUID, UUID | None] = dict.fromkeys(ids)
    for child_index, parent_index in moves:
        child, parent = ids[child_index], None if parent_index is None else ids[parent_index]
        try:
            check_alignment(child, parent, parent_of)
        except DomainError:
            continue
        parent_of[child] = parent
        assert is_acyclic(parent_of)
