-- Toolsets: named subsets of a tenant's tools, each served at its own MCP
-- URL (/t/<tenant>/mcp/<name>). A toolset is kept whole as JSON
-- (description, tools, tags, read_only), so a field added later needs no
-- migration.
CREATE TABLE toolsets (
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       text NOT NULL,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);

-- Every replica serves every toolset: a change moves the tenant's
-- generation and notifies in the same transaction (000008's function).
CREATE TRIGGER toolsets_changed AFTER INSERT OR UPDATE OR DELETE ON toolsets
    FOR EACH ROW EXECUTE FUNCTION portico_tenant_part_changed('toolsets');

-- An MCP token restricted to toolsets may use only their URLs; empty means
-- unrestricted (the tenant's endpoint and every toolset).
ALTER TABLE mcp_tokens ADD COLUMN toolsets text[] NOT NULL DEFAULT '{}';

-- Renaming a toolset renames it in the tokens restricted to it; replicas
-- that cached such a token hear of it as of a revocation, and verify it
-- again on its next request.
CREATE TRIGGER mcp_tokens_toolsets_changed AFTER UPDATE ON mcp_tokens
    FOR EACH ROW WHEN (OLD.toolsets IS DISTINCT FROM NEW.toolsets)
    EXECUTE FUNCTION portico_token_revoked();
