-- A batch of KPI readings is one event, so its readings share that event's position; `seq`
-- is a reading's place in its event (0 for a reading that is an event of its own) and breaks
-- the ties that position used to break: among readings observed at the same moment, the one
-- recorded first comes first.
ALTER TABLE kpi_readings ADD COLUMN seq integer NOT NULL DEFAULT 0;

DROP INDEX kpi_readings_observed;
CREATE INDEX kpi_readings_observed ON kpi_readings (tenant_id, kpi_id, observed_at, position, seq)
    INCLUDE (value);
