DROP TABLE IF EXISTS session_log_levels;
