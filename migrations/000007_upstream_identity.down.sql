DROP TABLE IF EXISTS identity_keys;
DELETE FROM credentials WHERE type = 'oauth2_client_credentials';
ALTER TABLE credentials DROP COLUMN IF EXISTS config;
ALTER TABLE credentials DROP CONSTRAINT credentials_type_check;
ALTER TABLE credentials ADD CONSTRAINT credentials_type_check
    CHECK (type IN ('bearer', 'header', 'basic', 'query'));
