-- Prompts: message templates a tenant serves to MCP clients (prompts/list,
-- prompts/get). A prompt is kept whole as JSON (description, arguments,
-- messages), so a field added later needs no migration.
CREATE TABLE prompts (
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       text NOT NULL,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);

-- A change of prompts is a change every replica must apply, like one of
-- credentials: it moves the tenant's generation and notifies in the same
-- transaction. The function takes the change's kind as its trigger
-- argument, so any other per-tenant table whose rows every replica serves
-- can use it too (credentials keep their own, older function).
CREATE FUNCTION portico_tenant_part_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tid text := COALESCE(NEW.tenant_id, OLD.tenant_id);
    gen bigint;
BEGIN
    UPDATE tenants SET generation = generation + 1 WHERE id = tid RETURNING generation INTO gen;
    IF gen IS NOT NULL THEN
        PERFORM pg_notify('portico_tenant', tid || ':' || TG_ARGV[0] || ':' || gen);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER prompts_changed AFTER INSERT OR UPDATE OR DELETE ON prompts
    FOR EACH ROW EXECUTE FUNCTION portico_tenant_part_changed('prompts');
