-- Reads the write path makes on every command, one round trip each: the tenant is set
-- inside the statement (transaction-local, so nothing outlives it) and Row-Level Security
-- applies as usual (SECURITY INVOKER).

-- A stream from its latest usable snapshot: the snapshot row (if any) first, then the
-- events after it; `is_snapshot` tells them apart.
CREATE FUNCTION load_stream(
    p_tenant text, p_stream uuid, p_until_version integer, p_until_time timestamptz
) RETURNS TABLE (is_snapshot boolean, version integer, topic text, payload text)
LANGUAGE plpgsql AS $$
DECLARE
    snapshot_version integer := 0;
BEGIN
    PERFORM set_config('okrledger.tenant_id', p_tenant, true);
    IF p_until_time IS NULL THEN
        RETURN QUERY
            SELECT true, s.version, s.topic, s.payload::text FROM snapshots s
            WHERE s.tenant_id = p_tenant AND s.stream_id = p_stream
              AND s.version <= coalesce(p_until_version, 2147483647)
            ORDER BY s.version DESC LIMIT 1;
        SELECT coalesce(max(s.version), 0) INTO snapshot_version FROM snapshots s
            WHERE s.tenant_id = p_tenant AND s.stream_id = p_stream
              AND s.version <= coalesce(p_until_version, 2147483647);
    END IF;
    RETURN QUERY
        SELECT false, e.version, e.topic, e.payload::text FROM events e
        WHERE e.tenant_id = p_tenant AND e.stream_id = p_stream AND e.version > snapshot_version
          AND (p_until_version IS NULL OR e.version <= p_until_version)
          AND (p_until_time IS NULL OR e.recorded_at <= p_until_time)
        ORDER BY e.version;
END
$$;

CREATE FUNCTION command_outcome(p_tenant text, p_command_id text)
RETURNS TABLE (stream_id uuid, version integer, event_position bigint)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('okrledger.tenant_id', p_tenant, true);
    RETURN QUERY SELECT c.stream_id, c.version, c.position FROM commands c
        WHERE c.tenant_id = p_tenant AND c.command_id = p_command_id;
END
$$;

GRANT EXECUTE ON FUNCTION load_stream(text, uuid, integer, timestamptz) TO okrledger_app;
GRANT EXECUTE ON FUNCTION command_outcome(text, text) TO okrledger_app;
