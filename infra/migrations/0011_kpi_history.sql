-- KPI read models. `kpis` holds each KPI's definition and health, versioned like the OKR
-- tree (a definition or health change closes the current row and adds the next), so a KPI
-- as of any position or time is one indexed query. What changes with every reading (the
-- stream version, the latest reading) lives in `kpi_status`, one row per KPI, so readings
-- never multiply versions.
CREATE TABLE kpis (
    tenant_id           text        NOT NULL,
    kpi_id              uuid        NOT NULL,
    valid_from_position bigint      NOT NULL,
    valid_to_position   bigint,
    valid_from_time     timestamptz NOT NULL,
    valid_to_time       timestamptz,
    name                text        NOT NULL,
    key                 text        NOT NULL,
    unit                text        NOT NULL,
    direction           text        NOT NULL,
    area                text        NOT NULL,
    cadence             text        NOT NULL,
    target              numeric,
    green               numeric,
    yellow              numeric,
    retired             boolean     NOT NULL,
    health              text,
    defined_position    bigint      NOT NULL,
    defined_at          timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, kpi_id, valid_from_position)
);
CREATE INDEX kpis_current ON kpis (tenant_id, defined_position)
    WHERE valid_to_position IS NULL;
CREATE INDEX kpis_current_area ON kpis (tenant_id, area, defined_position)
    WHERE valid_to_position IS NULL;
CREATE INDEX kpis_time ON kpis (tenant_id, kpi_id, valid_from_time);

CREATE TABLE kpi_status (
    tenant_id          text        NOT NULL,
    kpi_id             uuid        NOT NULL,
    version            integer     NOT NULL,
    reading_count      bigint      NOT NULL,
    latest_reading_id  uuid,
    latest_value       numeric,
    latest_observed_at timestamptz,
    updated_position   bigint      NOT NULL,
    updated_at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, kpi_id)
);

-- Every reading: its value as now corrected and the value first recorded; when it was
-- observed, when it was recorded and when last corrected (recorded times, for "what did
-- we know then" reads together with kpi_corrections).
CREATE TABLE kpi_readings (
    tenant_id          text        NOT NULL,
    kpi_id             uuid        NOT NULL,
    reading_id         uuid        NOT NULL,
    value              numeric     NOT NULL,
    original_value     numeric     NOT NULL,
    observed_at        timestamptz NOT NULL,
    source             text,
    position           bigint      NOT NULL,
    recorded_at        timestamptz NOT NULL,
    corrected_position bigint,
    corrected_at       timestamptz,
    corrections        integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, kpi_id, reading_id)
);
CREATE INDEX kpi_readings_observed ON kpi_readings (tenant_id, kpi_id, observed_at, position)
    INCLUDE (value);

-- Each correction as recorded: the value it set and the one it replaced.
CREATE TABLE kpi_corrections (
    tenant_id      text        NOT NULL,
    position       bigint      NOT NULL,
    kpi_id         uuid        NOT NULL,
    reading_id     uuid        NOT NULL,
    value          numeric     NOT NULL,
    previous_value numeric     NOT NULL,
    reason         text        NOT NULL,
    actor          text        NOT NULL,
    recorded_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, position)
);
CREATE INDEX kpi_corrections_reading ON kpi_corrections (tenant_id, kpi_id, reading_id, position);

-- Per KPI and UTC day: count, sum, min, max and the first and last readings (by observed
-- time, ties to the one recorded first), kept inline; DAY/WEEK/MONTH history reads these.
CREATE TABLE kpi_daily (
    tenant_id         text        NOT NULL,
    kpi_id            uuid        NOT NULL,
    day               date        NOT NULL,
    count             bigint      NOT NULL,
    sum               numeric     NOT NULL,
    min               numeric     NOT NULL,
    max               numeric     NOT NULL,
    first_value       numeric     NOT NULL,
    first_observed_at timestamptz NOT NULL,
    first_position    bigint      NOT NULL,
    last_value        numeric     NOT NULL,
    last_observed_at  timestamptz NOT NULL,
    last_position     bigint      NOT NULL,
    PRIMARY KEY (tenant_id, kpi_id, day)
);

ALTER TABLE kpis ENABLE ROW LEVEL SECURITY;
ALTER TABLE kpis FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON kpis
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

ALTER TABLE kpi_status ENABLE ROW LEVEL SECURITY;
ALTER TABLE kpi_status FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON kpi_status
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

ALTER TABLE kpi_readings ENABLE ROW LEVEL SECURITY;
ALTER TABLE kpi_readings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON kpi_readings
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

ALTER TABLE kpi_corrections ENABLE ROW LEVEL SECURITY;
ALTER TABLE kpi_corrections FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON kpi_corrections
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

ALTER TABLE kpi_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE kpi_daily FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON kpi_daily
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

GRANT SELECT, INSERT, UPDATE ON kpis TO okrledger_app;
GRANT SELECT, INSERT, UPDATE ON kpi_status TO okrledger_app;
GRANT SELECT, INSERT, UPDATE ON kpi_readings TO okrledger_app;
GRANT SELECT, INSERT ON kpi_corrections TO okrledger_app;
GRANT SELECT, INSERT, UPDATE ON kpi_daily TO okrledger_app;
