-- Announcing appends (infra/announce.py) in one statement whose commit does not wait for
-- the WAL flush: a NOTIFY gives its transaction an id, so its commit would otherwise be
-- flushed like a write's, and a lost announcement only delays followers until they poll.
-- set_config(…, true) lasts to the end of the caller's transaction, so the setting is in
-- force when that transaction commits.
CREATE FUNCTION announce_appends(p_tenants text[], p_positions bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM pg_notify('okrledger_events', moved.tenant_id || ':' || moved.position)
        FROM unnest(p_tenants, p_positions) AS moved(tenant_id, position);
END
$$;

GRANT EXECUTE ON FUNCTION announce_appends(text[], bigint[]) TO okrledger_app;
