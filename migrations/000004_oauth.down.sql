DROP TRIGGER IF EXISTS oauth_grants_deleted ON oauth_grants;
DROP TRIGGER IF EXISTS oauth_grants_revoked ON oauth_grants;
DROP FUNCTION IF EXISTS portico_oauth_grant_revoked();
DROP TABLE oauth_tokens;
DROP TABLE oauth_codes;
DROP TABLE oauth_grants;
DROP TABLE oauth_clients;
