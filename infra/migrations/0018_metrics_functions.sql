-- What /metrics reports about the whole database, computed at scrape time: how far each
-- projection is behind the tenants' heads, and how many webhook deliveries wait. The
-- application role reads no tenant's rows; these functions run as their owner and return
-- totals only (no tenant id, no payload).
DO $$
BEGIN
    EXECUTE format(
        'CREATE POLICY owner_sums_positions ON projection_positions FOR SELECT TO %I USING (true)',
        current_user);
END
$$;

-- Events each named projection has yet to apply, summed over tenants, and the tenants behind.
CREATE FUNCTION projection_lag(p_projections text[])
RETURNS TABLE (projection text, events_behind bigint, tenants_behind bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT name,
           coalesce(sum(h.position - coalesce(p.position, 0)), 0)::bigint,
           count(*) FILTER (WHERE h.position > coalesce(p.position, 0))
    FROM unnest(p_projections) AS name
    CROSS JOIN tenant_heads h
    LEFT JOIN projection_positions p ON p.tenant_id = h.tenant_id AND p.projection = name
    GROUP BY name
$$;
REVOKE EXECUTE ON FUNCTION projection_lag(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION projection_lag(text[]) TO okrledger_app;

-- Outbox rows (one per webhook and event) not yet acknowledged by their receiver.
CREATE FUNCTION webhook_backlog()
RETURNS TABLE (due bigint, retrying bigint, paused bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT count(*) FILTER (WHERE next_attempt_at <= now()),
           count(*) FILTER (WHERE next_attempt_at > now() AND next_attempt_at < 'infinity'),
           count(*) FILTER (WHERE next_attempt_at = 'infinity')
    FROM webhook_outbox
$$;
REVOKE EXECUTE ON FUNCTION webhook_backlog() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION webhook_backlog() TO okrledger_app;
