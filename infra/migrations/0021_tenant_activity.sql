-- `okrledger tenants list` shows each tenant's event count, head position and last activity,
-- and nothing else of theirs. The forced RLS hides every tenant's events even from the owner,
-- so this function looks at one tenant at a time, with that tenant set for RLS; the SET clause
-- restores the caller's tenant setting when the function returns.
CREATE FUNCTION tenant_activity()
RETURNS TABLE (tenant_id text, events bigint, head_position bigint, last_recorded_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
SET okrledger.tenant_id = ''
AS $$
DECLARE
    head record;
BEGIN
    FOR head IN SELECT h.tenant_id, h.position FROM tenant_heads h ORDER BY h.tenant_id LOOP
        PERFORM set_config('okrledger.tenant_id', head.tenant_id, true);
        RETURN QUERY
            SELECT head.tenant_id, count(*)::bigint, head.position, max(e.recorded_at)
            FROM events e
            WHERE e.tenant_id = head.tenant_id;
    END LOOP;
END
$$;

REVOKE ALL ON FUNCTION tenant_activity() FROM PUBLIC;
