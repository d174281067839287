-- The event store: one append-only log per tenant, positions gap-free in commit order.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'okrledger_app') THEN
        CREATE ROLE okrledger_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;

-- Current tenant for Row-Level Security; NULL (matches nothing) when no unit of work set one.
CREATE FUNCTION current_tenant() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('okrledger.tenant_id', true), '') $$;

CREATE TABLE tenant_heads (
    tenant_id text PRIMARY KEY CHECK (tenant_id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    position  bigint NOT NULL CHECK (position >= 0)
);

CREATE TABLE events (
    tenant_id      text        NOT NULL,
    stream_id      uuid        NOT NULL,
    version        integer     NOT NULL CHECK (version >= 1),
    position       bigint      NOT NULL CHECK (position >= 1),
    event_id       uuid        NOT NULL,
    stream_type    text        NOT NULL,
    event_type     text        NOT NULL,
    topic          text        NOT NULL,
    payload        jsonb       NOT NULL,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor          text        NOT NULL,
    command_id     text        NOT NULL,
    correlation_id text,
    reason         text,
    xid            xid8        NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (tenant_id, stream_id, version),
    UNIQUE (tenant_id, position),
    UNIQUE (tenant_id, event_id)
);
CREATE INDEX events_tenant_recorded_at ON events (tenant_id, recorded_at);

-- One row per command id: a retried command returns the first outcome and appends nothing.
CREATE TABLE commands (
    tenant_id   text        NOT NULL,
    command_id  text        NOT NULL,
    stream_id   uuid        NOT NULL,
    version     integer     NOT NULL,
    position    bigint      NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, command_id)
);

-- Unique keys within a tenant (cycle names, KPI keys, reading ids), claimed by a stream.
CREATE TABLE claims (
    tenant_id text  NOT NULL,
    scope     text  NOT NULL,
    key       text  NOT NULL,
    stream_id uuid  NOT NULL,
    data      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, scope, key)
);

-- Aggregate snapshots, so a long stream (a KPI's readings) loads in constant time.
CREATE TABLE snapshots (
    tenant_id text    NOT NULL,
    stream_id uuid    NOT NULL,
    version   integer NOT NULL,
    topic     text    NOT NULL,
    payload   jsonb   NOT NULL,
    PRIMARY KEY (tenant_id, stream_id, version)
);

ALTER TABLE tenant_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON tenant_heads
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON events
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

ALTER TABLE commands ENABLE ROW LEVEL SECURITY;
ALTER TABLE commands FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON commands
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

ALTER TABLE claims ENABLE ROW LEVEL SECURITY;
ALTER TABLE claims FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON claims
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

ALTER TABLE snapshots ENABLE ROW LEVEL SECURITY;
ALTER TABLE snapshots FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON snapshots
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Events are never updated or deleted: the application role may only insert and read them.
GRANT SELECT, INSERT, UPDATE ON tenant_heads TO okrledger_app;
GRANT SELECT, INSERT ON events TO okrledger_app;
GRANT SELECT, INSERT ON commands TO okrledger_app;
GRANT SELECT, INSERT ON claims TO okrledger_app;
GRANT SELECT, INSERT ON snapshots TO okrledger_app;
GRANT SELECT ON schema_migrations TO okrledger_app;
