-- Wake live subscribers in every server process when a tenant's log grows. The log stays
-- the source of truth: a notification only says "read after your position". Sent at commit;
-- identical payloads within one transaction are folded into one.
CREATE FUNCTION notify_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('okrledger_events', NEW.tenant_id || ':' || NEW.position);
    RETURN NULL;
END
$$;

CREATE TRIGGER tenant_head_moved AFTER INSERT OR UPDATE OF position ON tenant_heads
    FOR EACH ROW EXECUTE FUNCTION notify_append();
