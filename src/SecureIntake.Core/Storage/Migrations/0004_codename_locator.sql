-- A witness finds their submission again with their codename: only the locator derived from it (Argon2id
-- with the install's pepper, then HMAC) is stored. Mail submissions have none.
ALTER TABLE submissions ADD COLUMN codename_locator bytea UNIQUE CHECK (octet_length(codename_locator) = 32);
