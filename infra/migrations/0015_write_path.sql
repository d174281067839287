-- A command's one read: its stream (as load_stream gives it) unless its command id was seen
-- before, in which case only that command's first outcome. `kind` is 'outcome', 'snapshot'
-- or 'event'. Same tenant setting and Row-Level Security as the other read functions.
CREATE FUNCTION load_stream_for_command(p_tenant text, p_stream uuid, p_command_id text)
RETURNS TABLE (kind text, stream_id uuid, version integer, event_position bigint, topic text,
               payload text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('okrledger.tenant_id', p_tenant, true);
    RETURN QUERY SELECT 'outcome'::text, c.stream_id, c.version, c.position, NULL::text, NULL::text
        FROM commands c WHERE c.tenant_id = p_tenant AND c.command_id = p_command_id;
    IF FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT CASE WHEN s.is_snapshot THEN 'snapshot' ELSE 'event' END, p_stream,
                        s.version, NULL::bigint, s.topic, s.payload
        FROM load_stream(p_tenant, p_stream, NULL, NULL) s;
END
$$;

GRANT EXECUTE ON FUNCTION load_stream_for_command(text, uuid, text) TO okrledger_app;

-- The append with the same chain, positions and lock, for less work per event: the
-- canonical texts are built in one query over the arrays (the loop only chains SHA-256),
-- and the tenant's head row gets one new version per append, not two (lock, then move
-- position and hash together; a tenant's first append still inserts its head).
CREATE OR REPLACE FUNCTION append_events(
    p_tenant text, p_stream uuid, p_stream_type text, p_actor text, p_command_id text,
    p_correlation_id text, p_reason text, p_versions integer[], p_event_ids uuid[],
    p_event_types text[], p_topics text[], p_payloads text[], p_occurred timestamptz[]
) RETURNS TABLE (event_position bigint, event_recorded_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    n integer := cardinality(p_versions);
    last bigint;
    previous bytea;
    first_append boolean := false;
    recorded timestamptz := clock_timestamp();
    payloads jsonb[] := p_payloads::jsonb[];
    texts text[];
    hashes bytea[] := '{}';
BEGIN
    PERFORM set_config('okrledger.tenant_id', p_tenant, true);
    SELECT h.position + n, h.hash INTO last, previous FROM tenant_heads h
        WHERE h.tenant_id = p_tenant FOR UPDATE;
    IF NOT FOUND THEN
        first_append := true;
        INSERT INTO tenant_heads AS h (tenant_id, position) VALUES (p_tenant, n)
            ON CONFLICT (tenant_id) DO UPDATE SET position = h.position + n
            RETURNING h.position, h.hash INTO last, previous;
    END IF;
    texts := ARRAY(
        SELECT event_canonical(p_tenant, p_stream, e.version, last - n + e.ord, e.event_id,
                               p_stream_type, e.event_type, e.topic, e.payload, e.occurred_at,
                               recorded, p_actor, p_command_id, p_correlation_id, p_reason)
        FROM unnest(p_versions, p_event_ids, p_event_types, p_topics, payloads, p_occurred)
             WITH ORDINALITY AS e(version, event_id, event_type, topic, payload, occurred_at, ord)
        ORDER BY e.ord);
    FOR i IN 1..n LOOP
        previous := sha256(previous || convert_to(texts[i], 'UTF8'));
        hashes := hashes || previous;
    END LOOP;
    IF first_append THEN
        UPDATE tenant_heads SET hash = previous WHERE tenant_id = p_tenant;
    ELSE
        UPDATE tenant_heads SET position = last, hash = previous WHERE tenant_id = p_tenant;
    END IF;
    INSERT INTO commands (tenant_id, command_id, stream_id, version, position)
        VALUES (p_tenant, p_command_id, p_stream, p_versions[n], last);
    RETURN QUERY
    INSERT INTO events (tenant_id, stream_id, version, position, event_id, stream_type,
                        event_type, topic, payload, occurred_at, recorded_at, actor,
                        command_id, correlation_id, reason, hash)
    SELECT p_tenant, p_stream, e.version, last - n + e.ord, e.event_id, p_stream_type,
           e.event_type, e.topic, e.payload, e.occurred_at, recorded, p_actor, p_command_id,
           p_correlation_id, p_reason, e.hash
    FROM unnest(p_versions, p_event_ids, p_event_types, p_topics, payloads, p_occurred, hashes)
         WITH ORDINALITY AS e(version, event_id, event_type, topic, payload, occurred_at, hash, ord)
    RETURNING events.position, events.recorded_at;
END
$$;
