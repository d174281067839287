-- Tamper-evident history: each tenant's log is a hash chain. Every event stores
--   hash = SHA-256(previous event's hash || UTF-8 bytes of the event's canonical text)
-- (the first event of a tenant chains from the empty string), computed in the append
-- transaction; tenant_heads keeps the latest hash. The canonical text is a JSON object
-- of the event and its metadata, in jsonb's deterministic key order, times in UTC.

CREATE FUNCTION event_canonical(
    p_tenant text, p_stream uuid, p_version integer, p_position bigint, p_event_id uuid,
    p_stream_type text, p_event_type text, p_topic text, p_payload jsonb,
    p_occurred_at timestamptz, p_recorded_at timestamptz, p_actor text, p_command_id text,
    p_correlation_id text, p_reason text
) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'tenant', p_tenant, 'stream', p_stream, 'version', p_version, 'position', p_position,
        'id', p_event_id, 'streamType', p_stream_type, 'type', p_event_type, 'topic', p_topic,
        'payload', p_payload,
        'occurredAt', to_char(p_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'recordedAt', to_char(p_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'actor', p_actor, 'commandId', p_command_id, 'correlationId', p_correlation_id,
        'reason', p_reason
    )::text
$$;

ALTER TABLE tenant_heads ADD COLUMN hash bytea NOT NULL DEFAULT ''::bytea;
ALTER TABLE events ADD COLUMN hash bytea;

-- Back-fill the chains of events appended before this migration. The owner is filtered
-- by the forced RLS like everyone else, so lift FORCE for the length of this transaction.
ALTER TABLE events NO FORCE ROW LEVEL SECURITY;
ALTER TABLE tenant_heads NO FORCE ROW LEVEL SECURITY;
DO $$
DECLARE
    e record;
    previous bytea := ''::bytea;
    current_tenant_id text := NULL;
BEGIN
    FOR e IN SELECT * FROM events ORDER BY tenant_id, position LOOP
        IF current_tenant_id IS DISTINCT FROM e.tenant_id THEN
            IF current_tenant_id IS NOT NULL THEN
                UPDATE tenant_heads SET hash = previous WHERE tenant_id = current_tenant_id;
            END IF;
            current_tenant_id := e.tenant_id;
            previous := ''::bytea;
        END IF;
        previous := sha256(previous || convert_to(event_canonical(
            e.tenant_id, e.stream_id, e.version, e.position, e.event_id, e.stream_type,
            e.event_type, e.topic, e.payload, e.occurred_at, e.recorded_at, e.actor,
            e.command_id, e.correlation_id, e.reason), 'UTF8'));
        UPDATE events SET hash = previous
            WHERE tenant_id = e.tenant_id AND stream_id = e.stream_id AND version = e.version;
    END LOOP;
    IF current_tenant_id IS NOT NULL THEN
        UPDATE tenant_heads SET hash = previous WHERE tenant_id = current_tenant_id;
    END IF;
END
$$;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
ALTER TABLE tenant_heads FORCE ROW LEVEL SECURITY;
ALTER TABLE events ALTER COLUMN hash SET NOT NULL;

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
    recorded timestamptz := clock_timestamp();
    payloads jsonb[] := p_payloads::jsonb[];
    hashes bytea[] := '{}';
BEGIN
    PERFORM set_config('okrledger.tenant_id', p_tenant, true);
    INSERT INTO tenant_heads AS h (tenant_id, position) VALUES (p_tenant, n)
        ON CONFLICT (tenant_id) DO UPDATE SET position = h.position + n
        RETURNING h.position, h.hash INTO last, previous;
    FOR i IN 1..n LOOP
        previous := sha256(previous || convert_to(event_canonical(
            p_tenant, p_stream, p_versions[i], last - n + i, p_event_ids[i], p_stream_type,
            p_event_types[i], p_topics[i], payloads[i], p_occurred[i], recorded, p_actor,
            p_command_id, p_correlation_id, p_reason), 'UTF8'));
        hashes := hashes || previous;
    END LOOP;
    UPDATE tenant_heads SET hash = previous WHERE tenant_id = p_tenant;
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
