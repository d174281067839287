-- Each thing has exactly one current version. Finding it by its id must not walk every
-- version it ever had (a key result checked in daily for years has thousands), so each
-- versioned table gets a partial index on the current version. Not UNIQUE: a change closes
-- the old version and adds the new one in one statement, and a unique index would see both.
CREATE INDEX okr_cycles_one_current ON okr_cycles (tenant_id, cycle_id)
    WHERE valid_to_position IS NULL;
CREATE INDEX okr_objectives_one_current ON okr_objectives (tenant_id, objective_id)
    WHERE valid_to_position IS NULL;
CREATE INDEX okr_key_results_one_current
    ON okr_key_results (tenant_id, objective_id, key_result_id)
    WHERE valid_to_position IS NULL;
CREATE INDEX kpis_one_current ON kpis (tenant_id, kpi_id)
    WHERE valid_to_position IS NULL;
