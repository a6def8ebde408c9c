ALTER TABLE api_keys DROP CONSTRAINT api_keys_one_minter;
ALTER TABLE api_keys DROP COLUMN minted_by_key;
ALTER TABLE api_keys DROP COLUMN minted_by_user;
