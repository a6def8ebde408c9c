DROP TRIGGER IF EXISTS prompts_changed ON prompts;
DROP FUNCTION IF EXISTS portico_prompts_changed();
DROP TABLE IF EXISTS prompts;
