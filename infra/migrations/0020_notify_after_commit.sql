-- Live subscribers are woken by the appending process once its transaction has committed
-- (infra/announce.py), not by a trigger inside the transaction: PostgreSQL serialises the
-- commits of every transaction that sent a NOTIFY, across all tenants, so the trigger made
-- each tenant's appends wait for the others' commits. The log stays the source of truth
-- and tails still poll, so a wake-up lost to a crash between commit and NOTIFY only delays.
DROP TRIGGER tenant_head_moved ON tenant_heads;
DROP FUNCTION notify_append();
