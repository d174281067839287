-- Which key results follow which KPI (kept inline from the objectives' link events).
CREATE TABLE kpi_links (
    tenant_id     text NOT NULL,
    kpi_id        uuid NOT NULL,
    objective_id  uuid NOT NULL,
    key_result_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, kpi_id, objective_id, key_result_id),
    UNIQUE (tenant_id, objective_id, key_result_id)
);

ALTER TABLE kpi_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE kpi_links FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON kpi_links
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

GRANT SELECT, INSERT, DELETE ON kpi_links TO okrledger_app;
