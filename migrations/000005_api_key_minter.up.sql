-- Who minted each API key, so a tenant key never carries more authority
-- than its minter has now: minted_by_user is a user (session or user key),
-- minted_by_key an operator key. A key minted by another tenant key records
-- that key's minter. Keys from before this migration have neither and act
-- as admin at most (docs/security.md, "Accounts and authorization").
-- No foreign keys: a minter that is gone must leave the key powerless, not
-- turn it back into a key with no minter.
ALTER TABLE api_keys ADD COLUMN minted_by_user text;
ALTER TABLE api_keys ADD COLUMN minted_by_key text;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_one_minter CHECK (minted_by_user IS NULL OR minted_by_key IS NULL);
