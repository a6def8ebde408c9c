DROP TRIGGER IF EXISTS prompts_changed ON prompts;
DROP FUNCTION IF EXISTS portico_tenant_part_changed();
DROP TABLE IF EXISTS prompts;
