-- The goal change history: one entry per event, with who, when, why and what changed.
CREATE TABLE change_log (
    tenant_id      text        NOT NULL,
    position       bigint      NOT NULL,
    stream_id      uuid        NOT NULL,
    stream_type    text        NOT NULL,
    version        integer     NOT NULL,
    event_type     text        NOT NULL,
    actor          text        NOT NULL,
    recorded_at    timestamptz NOT NULL,
    command_id     text        NOT NULL,
    correlation_id text,
    reason         text,
    summary        text        NOT NULL,
    changes        jsonb       NOT NULL DEFAULT '[]',
    PRIMARY KEY (tenant_id, position)
);
CREATE INDEX change_log_stream ON change_log (tenant_id, stream_id, position);
CREATE INDEX change_log_actor ON change_log (tenant_id, actor, position);
CREATE INDEX change_log_type ON change_log (tenant_id, event_type, position);
CREATE INDEX change_log_time ON change_log (tenant_id, recorded_at);

ALTER TABLE change_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE change_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON change_log
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

GRANT SELECT, INSERT ON change_log TO okrledger_app;
