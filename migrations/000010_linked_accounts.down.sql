DROP TABLE IF EXISTS link_requests;
DROP TABLE IF EXISTS linked_accounts;
DELETE FROM credentials WHERE type = 'oauth2_authorization_code';
ALTER TABLE credentials DROP CONSTRAINT credentials_type_check;
ALTER TABLE credentials ADD CONSTRAINT credentials_type_check
    CHECK (type IN ('bearer', 'header', 'basic', 'query', 'oauth2_client_credentials'));
