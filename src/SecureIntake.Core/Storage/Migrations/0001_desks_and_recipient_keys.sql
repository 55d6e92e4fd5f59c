-- Desks route submissions to their own recipients; every installation starts with one, "default".
CREATE TABLE desks (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO desks (name) VALUES ('default');

-- Recipients' public certificates (never a private key). The encryption subkey is chosen again from the
-- certificate whenever it is used, so expiry and revocation are judged at that moment, not at import.
CREATE TABLE recipient_keys (
    desk_id uuid NOT NULL REFERENCES desks (id) ON DELETE CASCADE,
    fingerprint text NOT NULL CHECK (fingerprint ~ '^[0-9A-F]{40}$'),
    certificate bytea NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (desk_id, fingerprint)
);
