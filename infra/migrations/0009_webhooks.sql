-- Webhooks: who wants which events (a projection of the Webhook streams), their signing
-- secrets (never in an event), the outbox written in the append transaction, and every
-- delivery attempt.

CREATE TABLE webhooks (
    tenant_id      text        NOT NULL,
    webhook_id     uuid        NOT NULL,
    url            text        NOT NULL,
    event_types    text[]      NOT NULL,
    description    text        NOT NULL DEFAULT '',
    status         text        NOT NULL CHECK (status IN ('active', 'paused', 'removed')),
    pause_reason   text,
    -- The registration's position: a webhook receives the events after it.
    start_position bigint      NOT NULL,
    registered_at  timestamptz NOT NULL,
    changed_at     timestamptz NOT NULL,
    version        integer     NOT NULL,
    PRIMARY KEY (tenant_id, webhook_id)
);

CREATE TABLE webhook_secrets (
    tenant_id       text        NOT NULL,
    webhook_id      uuid        NOT NULL,
    secret          text        NOT NULL,
    -- After a rotation the old secret still signs (a second v1) until previous_until.
    previous_secret text,
    previous_until  timestamptz,
    PRIMARY KEY (tenant_id, webhook_id)
);

-- One row per (webhook, event) still to deliver; deleted once the receiver acknowledged it.
CREATE TABLE webhook_outbox (
    tenant_id        text        NOT NULL,
    webhook_id       uuid        NOT NULL,
    position         bigint      NOT NULL,
    event_id         uuid        NOT NULL,
    delivery_id      uuid        NOT NULL DEFAULT gen_random_uuid(),
    attempts         integer     NOT NULL DEFAULT 0,
    -- 'infinity' while the webhook is paused.
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    first_failure_at timestamptz,
    last_error       text,
    PRIMARY KEY (tenant_id, webhook_id, position)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at, tenant_id);

CREATE TABLE webhook_deliveries (
    tenant_id    text        NOT NULL,
    attempt_id   uuid        NOT NULL,
    webhook_id   uuid        NOT NULL,
    delivery_id  uuid        NOT NULL,
    position     bigint      NOT NULL,
    event_id     uuid        NOT NULL,
    attempt      integer     NOT NULL,
    attempted_at timestamptz NOT NULL,
    duration_ms  integer     NOT NULL,
    status_code  integer,
    succeeded    boolean     NOT NULL,
    error        text,
    next_attempt_at timestamptz,
    PRIMARY KEY (tenant_id, attempt_id)
);
CREATE INDEX webhook_deliveries_by_webhook
    ON webhook_deliveries (tenant_id, webhook_id, attempted_at DESC);

ALTER TABLE webhooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhooks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON webhooks
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

ALTER TABLE webhook_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON webhook_secrets
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

ALTER TABLE webhook_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON webhook_outbox
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON webhook_deliveries
    USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Delivery workers serve every tenant but work inside one tenant's wall at a time. To find
-- which tenants have deliveries due, they call this function: it runs as its owner (who
-- may read the outbox of every tenant, see the policy below) and returns tenant ids only.
DO $$
BEGIN
    EXECUTE format(
        'CREATE POLICY owner_scans_due ON webhook_outbox FOR SELECT TO %I USING (true)',
        current_user);
END
$$;

CREATE FUNCTION webhook_tenants_due(p_limit integer)
RETURNS TABLE (tenant_id text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT o.tenant_id FROM webhook_outbox o
    WHERE o.next_attempt_at <= now()
    GROUP BY o.tenant_id
    ORDER BY min(o.next_attempt_at)
    LIMIT p_limit
$$;
REVOKE EXECUTE ON FUNCTION webhook_tenants_due(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION webhook_tenants_due(integer) TO okrledger_app;

GRANT SELECT, INSERT, UPDATE ON webhooks TO okrledger_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_secrets TO okrledger_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_outbox TO okrledger_app;
GRANT SELECT, INSERT ON webhook_deliveries TO okrledger_app;
