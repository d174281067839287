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
