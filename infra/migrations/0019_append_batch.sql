-- One command's append as one statement that answers instead of failing: its events (via
-- append_events, same chain, positions and lock), its claims and its snapshot, all or
-- nothing. A lost race (the stream's next version or the command id already taken, or a
-- claimed key held by another stream) undoes this command's writes only, inside the
-- function, and comes back as `refused` (the constraint, or 'claim' with its scope and
-- key), so the appends of several commands for one tenant can share one transaction and
-- one round trip without one command's refusal aborting the others.
CREATE FUNCTION append_command(
    p_item integer, p_tenant text, p_stream uuid, p_stream_type text, p_actor text,
    p_command_id text, p_correlation_id text, p_reason text, p_versions integer[],
    p_event_ids uuid[], p_event_types text[], p_topics text[], p_payloads text[],
    p_occurred timestamptz[], p_claim_scopes text[], p_claim_keys text[], p_claim_data text[],
    p_snapshot_version integer, p_snapshot_topic text, p_snapshot_payload text
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
BEGIN
    PERFORM set_config('okrledger.tenant_id', p_tenant, true);
    BEGIN
        SELECT array_agg(a.event_position ORDER BY a.event_position),
               array_agg(a.event_recorded_at ORDER BY a.event_position)
            INTO positions, recorded
            FROM append_events(p_tenant, p_stream, p_stream_type, p_actor, p_command_id,
                               p_correlation_id, p_reason, p_versions, p_event_ids,
                               p_event_types, p_topics, p_payloads, p_occurred) a;
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
    text, text) TO okrledger_app;
