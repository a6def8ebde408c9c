DROP TRIGGER IF EXISTS mcp_tokens_toolsets_changed ON mcp_tokens;
ALTER TABLE mcp_tokens DROP COLUMN IF EXISTS toolsets;
DROP TRIGGER IF EXISTS toolsets_changed ON toolsets;
DROP TABLE IF EXISTS toolsets;
