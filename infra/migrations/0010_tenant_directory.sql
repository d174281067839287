-- Background work that spans tenants (catching up policies, delivering webhooks) needs the
-- list of tenants, and nothing else of theirs. The forced RLS hides every tenant's row
-- even from the owner, so the owner (who runs the migrations, and could lift RLS anyway)
-- may read tenant_heads, and the application role may call one function that returns
-- tenant ids only.
DO $$
BEGIN
    EXECUTE format(
        'CREATE POLICY owner_lists_tenants ON tenant_heads FOR SELECT TO %I USING (true)',
        current_user);
END
$$;

CREATE FUNCTION tenant_ids() RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT tenant_id FROM tenant_heads ORDER BY tenant_id $$;

REVOKE ALL ON FUNCTION tenant_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_ids() TO okrledger_app;
