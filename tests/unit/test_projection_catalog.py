"""One list of projections for the inline hook and the rebuild."""

from __future__ import annotations

import pytest

from okrledger.projections.catalog import ReadModels, okr_read_models, projections
from okrledger.projections.change_log import ChangeLog
from okrledger.projections.okr_tree import OkrTree
from okrledger.projections.public_events import PUBLIC_BY_NAME, PUBLIC_TYPES


def test_the_change_log_runs_after_the_read_models_its_describers_read() -> None:
    found = projections()
    assert isinstance(found[0], OkrTree)
    assert isinstance(found[-1], ChangeLog)


def test_every_event_a_read_model_reads_is_described_in_the_history() -> None:
    *read_models, change_log = projections()
    assert all(model.handles <= change_log.handles for model in read_models)
    assert {"TenantConfigured", "OKRPolicySet", "KPIDefined"} <= change_log.handles


def test_projection_names_and_tables_are_unique() -> None:
    found = projections()
    tables = [t for p in found for t in p.tables]
    assert len({p.name for p in found}) == len(found)
    assert len(set(tables)) == len(tables)


def test_an_event_described_by_two_contexts_is_refused() -> None:
    with pytest.raises(ValueError, match="described twice"):
        projections([okr_read_models, lambda: ReadModels(describers=okr_read_models().describers)])


def test_every_public_event_type_is_described_in_the_audit_log() -> None:
    change_log = projections()[-1]
    assert {kind.__name__ for kind in PUBLIC_TYPES} <= change_log.handles


def test_each_event_name_of_the_history_has_one_public_type() -> None:
    assert len(PUBLIC_BY_NAME) == len(PUBLIC_TYPES)
