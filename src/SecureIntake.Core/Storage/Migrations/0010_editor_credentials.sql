-- Whether an admin knows the editor's credentials because they set or were shown them: such an editor must
-- choose their own password, or enrol a new authenticator, before anything else. Every password and TOTP secret
-- stored so far was typed or shown by an admin, so existing editors start with both set.
ALTER TABLE editors
    ADD COLUMN password_set_by_admin boolean NOT NULL DEFAULT true,
    ADD COLUMN totp_seen_by_admin boolean NOT NULL DEFAULT true,
    -- A new authenticator the editor is enrolling: it replaces totp_secret only once a code from it is confirmed,
    -- so the old one keeps working until then.
    ADD COLUMN pending_totp_secret bytea CHECK (octet_length(pending_totp_secret) = 20);
