-- A command id is bound to the command it was first used for: its fingerprint (a SHA-256
-- of the command's kind and input, made by the caller) is kept with its outcome, and a
-- later command with the same id but another fingerprint is refused instead of answered
-- with the first one's outcome. Commands recorded before have no fingerprint and are
-- replayed as before; so are commands that come without one (the system's own).
ALTER TABLE commands ADD COLUMN fingerprint bytea;

-- The row is inserted by append_events within the same statement; the fingerprint is set
-- once, right after, and never changed (only a NULL one may be set).
GRANT UPDATE (fingerprint) ON commands TO okrledger_app;

DROP FUNCTION command_outcome(text, text);

CREATE FUNCTION command_outcome(p_tenant text, p_command_id text)
RETURNS TABLE (stream_id uuid, version integer, event_position bigint, fingerprint bytea)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('okrledger.tenant_id', p_tenant, true);
    RETURN QUERY SELECT c.stream_id, c.version, c.position, c.fingerprint FROM commands c
        WHERE c.tenant_id = p_tenant AND c.command_id = p_command_id;
END
$$;

GRANT EXECUTE ON FUNCTION command_outcome(text, text) TO okrledger_app;

DROP FUNCTION load_stream_for_command(text, uuid, text);

-- As in 0015, with the first command's fingerprint on the 'outcome' row.
CREATE FUNCTION load_stream_for_command(p_tenant text, p_stream uuid, p_command_id text)
RETURNS TABLE (kind text, stream_id uuid, version integer, event_position bigint, topic text,
               payload text, fingerprint bytea)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('okrledger.tenant_id', p_tenant, true);
    RETURN QUERY SELECT 'outcome'::text, c.stream_id, c.version, c.position, NULL::text,
                        NULL::text, c.fingerprint
        FROM commands c WHERE c.tenant_id = p_tenant AND c.command_id = p_command_id;
    IF FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT CASE WHEN s.is_snapshot THEN 'snapshot' ELSE 'event' END, p_stream,
                        s.version, NULL::bigint, s.topic, s.payload, NULL::bytea
        FROM load_stream(p_tenant, p_stream, NULL, NULL) s;
END
$$;

GRANT EXECUTE ON FUNCTION load_stream_for_command(text, uuid, text) TO okrledger_app;

DROP FUNCTION append_command(integer, text, uuid, text, text, text, text, text, integer[],
    uuid[], text[], text[], text[], timestamptz[], text[], text[], text[], integer, text, text);

-- As in 0019, and the command's fingerprint is recorded with its outcome. A lost race on
-- the command id (a concurrent request with the same id) is refused as 'command_reused'
-- when both fingerprints are known and differ: that request was another command, and it
-- must not be answered with this one's outcome. With equal (or unknown) fingerprints it is
-- 'commands_pkey' as before: a retry, answered with the first outcome.
CREATE FUNCTION append_command(
    p_item integer, p_tenant text, p_stream uuid, p_stream_type text, p_actor text,
    p_command_id text, p_correlation_id text, p_reason text, p_versions integer[],
    p_event_ids uuid[], p_event_types text[], p_topics text[], p_payloads text[],
    p_occurred timestamptz[], p_claim_scopes text[], p_claim_keys text[], p_claim_data text[],
    p_snapshot_version integer, p_snapshot_topic text, p_snapshot_payload text,
    p_fingerprint bytea
) RETURNS TABLE (item integer, event_position bigint, event_recorded_at timestamptz,
                 refused text, refused_scope text, refused_key text)
LANGUAGE plpgsql AS $$
DECLARE
    positions bigint[];
    recorded timestamptz[];
    lost record;
    violated text;
    lost_scope text;
    lost_key text;
    held bytea;
BEGIN
    PERFORM set_config('okrledger.tenant_id', p_tenant, true);
    BEGIN
        SELECT array_agg(a.event_position ORDER BY a.event_position),
               array_agg(a.event_recorded_at ORDER BY a.event_position)
            INTO positions, recorded
            FROM append_events(p_tenant, p_stream, p_stream_type, p_actor, p_command_id,
                               p_correlation_id, p_reason, p_versions, p_event_ids,
                               p_event_types, p_topics, p_payloads, p_occurred) a;
        IF p_fingerprint IS NOT NULL THEN
            UPDATE commands c SET fingerprint = p_fingerprint
                WHERE c.tenant_id = p_tenant AND c.command_id = p_command_id
                  AND c.fingerprint IS NULL;
        END IF;
        IF cardinality(p_claim_keys) > 0 THEN
            WITH wanted AS (
                     SELECT c.scope, c.key, c.data
                     FROM unnest(p_claim_scopes, p_claim_keys, p_claim_data) AS c(scope, key, data)),
                 won AS (
                     INSERT INTO claims (tenant_id, scope, key, stream_id, data)
                     SELECT p_tenant, w.scope, w.key, p_stream, w.data::jsonb FROM wanted w
                     ON CONFLICT DO NOTHING RETURNING claims.scope, claims.key)
            SELECT w.scope, w.key INTO lost FROM wanted w
                WHERE NOT EXISTS (SELECT 1 FROM won WHERE won.scope = w.scope AND won.key = w.key)
                LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'claim taken' USING ERRCODE = 'OKR01', DETAIL = lost.scope,
                    HINT = lost.key;
            END IF;
        END IF;
        IF p_snapshot_version IS NOT NULL THEN
            INSERT INTO snapshots (tenant_id, stream_id, version, topic, payload)
                VALUES (p_tenant, p_stream, p_snapshot_version, p_snapshot_topic,
                        p_snapshot_payload::jsonb)
                ON CONFLICT DO NOTHING;
        END IF;
    EXCEPTION
        WHEN unique_violation THEN
            GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
            IF violated NOT IN ('events_pkey', 'commands_pkey') THEN
                RAISE;
            END IF;
            IF violated = 'commands_pkey' AND p_fingerprint IS NOT NULL THEN
                -- The winner has committed (or is this batch's own earlier command), and
                -- this statement sees it.
                SELECT c.fingerprint INTO held FROM commands c
                    WHERE c.tenant_id = p_tenant AND c.command_id = p_command_id;
                IF held IS NOT NULL AND held <> p_fingerprint THEN
                    violated := 'command_reused';
                END IF;
            END IF;
            RETURN QUERY SELECT p_item, NULL::bigint, NULL::timestamptz, violated, NULL::text,
                                NULL::text;
            RETURN;
        WHEN SQLSTATE 'OKR01' THEN
            GET STACKED DIAGNOSTICS lost_scope = PG_EXCEPTION_DETAIL, lost_key = PG_EXCEPTION_HINT;
            RETURN QUERY SELECT p_item, NULL::bigint, NULL::timestamptz, 'claim'::text,
                                lost_scope, lost_key;
            RETURN;
    END;
    RETURN QUERY SELECT p_item, p.position, p.recorded_at, NULL::text, NULL::text, NULL::text
        FROM unnest(positions, recorded) AS p(position, recorded_at);
END
$$;

GRANT EXECUTE ON FUNCTION append_command(integer, text, uuid, text, text, text, text, text,
    integer[], uuid[], text[], text[], text[], timestamptz[], text[], text[], text[], integer,
    text, text, bytea) TO okrledger_app;
