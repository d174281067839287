-- One round trip per append: set the tenant, take the next positions under the tenant's
-- row lock, record the command id and insert the events. SECURITY INVOKER (the default):
-- it runs as the caller, so Row-Level Security applies to every statement in it.
-- A repeated command id fails on commands_pkey and a stale version on events_pkey; either
-- way the whole statement, and so the position increment, is rolled back.
CREATE FUNCTION append_events(
    p_tenant text, p_stream uuid, p_stream_type text, p_actor text, p_command_id text,
    p_correlation_id text, p_reason text, p_versions integer[], p_event_ids uuid[],
    p_event_types text[], p_topics text[], p_payloads text[], p_occurred timestamptz[]
) RETURNS TABLE (event_position bigint, event_recorded_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    n integer := cardinality(p_versions);
    last bigint;
BEGIN
    PERFORM set_config('okrledger.tenant_id', p_tenant, true);
    INSERT INTO tenant_heads AS h (tenant_id, position) VALUES (p_tenant, n)
        ON CONFLICT (tenant_id) DO UPDATE SET position = h.position + n
        RETURNING h.position INTO last;
    INSERT INTO commands (tenant_id, command_id, stream_id, version, position)
        VALUES (p_tenant, p_command_id, p_stream, p_versions[n], last);
    RETURN QUERY
    INSERT INTO events (tenant_id, stream_id, version, position, event_id, stream_type,
                        event_type, topic, payload, occurred_at, actor, command_id,
                        correlation_id, reason)
    SELECT p_tenant, p_stream, e.version, last - n + e.ord, e.event_id, p_stream_type,
           e.event_type, e.topic, e.payload::jsonb, e.occurred_at, p_actor, p_command_id,
           p_correlation_id, p_reason
    FROM unnest(p_versions, p_event_ids, p_event_types, p_topics, p_payloads, p_occurred)
         WITH ORDINALITY AS e(version, event_id, event_type, topic, payload, occurred_at, ord)
    RETURNING events.position, events.recorded_at;
END
$$;

GRANT EXECUTE ON FUNCTION append_events(text, uuid, text, text, text, text, text, integer[],
    uuid[], text[], text[], text[], timestamptz[]) TO okrledger_app;
