ALTER TABLE audit_log DROP COLUMN source;
DROP INDEX api_keys_user_idx;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_one_owner;
-- User keys cannot outlive their owners' table; drop them rather than turn
-- them into operator keys.
DELETE FROM api_keys WHERE user_id IS NOT NULL;
ALTER TABLE api_keys DROP COLUMN user_id;
DROP TABLE memberships;
DROP TABLE sessions;
DROP TABLE users;
