-- The OKR tree, versioned: each change to a cycle, objective or key result closes
-- the row that was current (valid_to_*) and adds the new one (valid_from_*), so the
-- current tree is `valid_to_position IS NULL` and the tree as of any position or
-- time is one indexed query. Positions are the tenant's log positions.
CREATE TABLE okr_cycles (
    tenant_id           text        NOT NULL,
    cycle_id            uuid        NOT NULL,
    valid_from_position bigint      NOT NULL,
    valid_to_position   bigint,
    valid_from_time     timestamptz NOT NULL,
    valid_to_time       timestamptz,
    name                text        NOT NULL,
    starts_on           date        NOT NULL,
    ends_on             date        NOT NULL,
    closed              boolean     NOT NULL,
    version             integer     NOT NULL,
    started_at          timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, cycle_id, valid_from_position)
);
CREATE INDEX okr_cycles_current ON okr_cycles (tenant_id, starts_on)
    WHERE valid_to_position IS NULL;

CREATE TABLE okr_objectives (
    tenant_id           text        NOT NULL,
    objective_id        uuid        NOT NULL,
    valid_from_position bigint      NOT NULL,
    valid_to_position   bigint,
    valid_from_time     timestamptz NOT NULL,
    valid_to_time       timestamptz,
    cycle_id            uuid        NOT NULL,
    parent_id           uuid,
    title               text        NOT NULL,
    description         text        NOT NULL,
    owner               text        NOT NULL,
    team                text,
    lifecycle           text        NOT NULL,
    archived            boolean     NOT NULL,
    status              text        NOT NULL,
    grade               numeric,
    retrospective       text        NOT NULL,
    progress            numeric     NOT NULL,
    key_result_count    integer     NOT NULL,
    version             integer     NOT NULL,
    created_position    bigint      NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, objective_id, valid_from_position)
);
-- A cycle's tree now (partial: current versions only), and as of a past position or time.
CREATE INDEX okr_objectives_current_cycle ON okr_objectives (tenant_id, cycle_id, created_position)
    WHERE valid_to_position IS NULL;
CREATE INDEX okr_objectives_cycle ON okr_objectives (tenant_id, cycle_id, valid_from_position);
CREATE INDEX okr_objectives_cycle_time ON okr_objectives (tenant_id, cycle_id, valid_from_time);
CREATE INDEX okr_objectives_current ON okr_objectives (tenant_id, created_position)
    WHERE valid_to_position IS NULL;
CREATE INDEX okr_objectives_current_owner ON okr_objectives (tenant_id, owner, created_position)
    WHERE valid_to_position IS NULL;

CREATE TABLE okr_key_results (
    tenant_id                text        NOT NULL,
    objective_id             uuid        NOT NULL,
    key_result_id            uuid        NOT NULL,
    valid_from_position      bigint      NOT NULL,
    valid_to_position        bigint,
    valid_from_time          timestamptz NOT NULL,
    valid_to_time            timestamptz,
    cycle_id                 uuid        NOT NULL,
    title                    text        NOT NULL,
    metric                   text        NOT NULL,
    unit                     text        NOT NULL,
    currency                 text,
    start_value              numeric     NOT NULL,
    target_value             numeric     NOT NULL,
    current_value            numeric     NOT NULL,
    weight                   numeric     NOT NULL,
    confidence               text,
    note                     text        NOT NULL,
    progress                 numeric     NOT NULL,
    kpi_id                   uuid,
    last_reading_id          uuid,
    last_reading_observed_at timestamptz,
    last_check_in_at         timestamptz,
    last_check_in_by         text,
    added_position           bigint      NOT NULL,
    added_at                 timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, objective_id, key_result_id, valid_from_position)
);
CREATE INDEX okr_key_results_current_cycle ON okr_key_results (tenant_id, cycle_id, added_position)
    WHERE valid_to_position IS NULL;
CREATE INDEX okr_key_results_cycle ON okr_key_results (tenant_id, cycle_id, valid_from_position);
CREATE INDEX okr_key_results_cycle_time ON okr_key_results (tenant_id, cycle_id, valid_from_time);
CREATE INDEX okr_key_results_current ON okr_key_results (tenant_id, objective_id, added_position)
    WHERE valid_to_position IS NULL;

ALTER TABLE okr_cycles ENABLE ROW LEVEL SECURITY;
ALTER TABLE okr_cycles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON okr_cycles
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

ALTER TABLE okr_objectives ENABLE ROW LEVEL SECURITY;
ALTER TABLE okr_objectives FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON okr_objectives
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

ALTER TABLE okr_key_results ENABLE ROW LEVEL SECURITY;
ALTER TABLE okr_key_results FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON okr_key_results
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Versions are closed (UPDATE of valid_to_*) and added, never deleted.
GRANT SELECT, INSERT, UPDATE ON okr_cycles TO okrledger_app;
GRANT SELECT, INSERT, UPDATE ON okr_objectives TO okrledger_app;
GRANT SELECT, INSERT, UPDATE ON okr_key_results TO okrledger_app;
