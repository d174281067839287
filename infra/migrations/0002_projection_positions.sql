-- How far each projection has applied each tenant's log, written in the same
-- transaction as the projection's rows.
CREATE TABLE projection_positions (
    tenant_id  text   NOT NULL,
    projection text   NOT NULL,
    position   bigint NOT NULL CHECK (position >= 0),
    PRIMARY KEY (tenant_id, projection)
);

ALTER TABLE projection_positions ENABLE ROW LEVEL SECURITY;
ALTER TABLE projection_positions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON projection_positions
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

GRANT SELECT, INSERT, UPDATE ON projection_positions TO okrledger_app;
