-- Editors sign in with a password (an Argon2id PHC string) and a TOTP code; the last accepted TOTP step
-- is kept so a code can never be used twice. Failed attempts lock the account for a while.
CREATE TABLE editors (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    role text NOT NULL CHECK (role IN ('editor', 'admin')),
    password_hash text NOT NULL,
    totp_secret bytea NOT NULL CHECK (octet_length(totp_secret) = 20),
    totp_last_step bigint NOT NULL DEFAULT 0,
    disabled boolean NOT NULL DEFAULT false,
    failed_sign_ins integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Only a hash of each session token is stored: a copy of the database signs no one in.
CREATE TABLE desk_sessions (
    token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    editor_id uuid NOT NULL REFERENCES editors (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('browser', 'tool')),
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);

CREATE INDEX desk_sessions_by_editor ON desk_sessions (editor_id);

-- Triage state, kept apart from content: nothing here comes from the witness.
ALTER TABLE submissions
    ADD COLUMN assignee_id uuid REFERENCES editors (id) ON DELETE SET NULL,
    ADD COLUMN priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
    ADD COLUMN on_hold boolean NOT NULL DEFAULT false,
    -- Batches the witness sent, and how many of them an editor had when last opening it: counted, not
    -- timed, because times are kept only to the minute.
    ADD COLUMN witness_batches integer NOT NULL DEFAULT 0,
    ADD COLUMN editor_seen_batches integer,
    -- Kept up to date by every commit, so the queue never has to add up items.
    ADD COLUMN file_count integer NOT NULL DEFAULT 0,
    ADD COLUMN ciphertext_bytes bigint NOT NULL DEFAULT 0;

UPDATE submissions s SET
    witness_batches = (SELECT count(DISTINCT batch_id) FROM submission_items i WHERE i.submission_id = s.id AND i.author = 'witness'),
    file_count = (SELECT count(*) FROM submission_items i WHERE i.submission_id = s.id AND i.kind IN ('file', 'email')),
    ciphertext_bytes = (SELECT COALESCE(sum(ciphertext_bytes), 0) FROM submission_items i WHERE i.submission_id = s.id);

CREATE INDEX submissions_by_status ON submissions (status, received_at DESC);
CREATE INDEX submissions_by_assignee ON submissions (assignee_id, received_at DESC);
CREATE INDEX submissions_by_tags ON submissions USING gin (tags);
CREATE INDEX submissions_by_arrival ON submissions (received_at DESC, id);

ALTER TABLE desks ADD COLUMN retention_days integer NOT NULL DEFAULT 90 CHECK (retention_days BETWEEN 1 AND 3650);

-- Notes between editors are encrypted items like everything else.
ALTER TABLE submission_items
    DROP CONSTRAINT submission_items_kind_check,
    ADD CONSTRAINT submission_items_kind_check CHECK (kind IN ('manifest', 'message', 'file', 'email', 'reply', 'note'));

-- Who changed what on a submission, and when.
CREATE TABLE submission_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    submission_id uuid NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    editor_id uuid REFERENCES editors (id) ON DELETE SET NULL,
    at timestamptz NOT NULL,
    change text NOT NULL
);

CREATE INDEX submission_events_by_submission ON submission_events (submission_id, id);

-- Sign-ins, views, downloads, changes, deletions. No addresses, no content; a deleted submission's
-- entries stay (no foreign key), naming only its id.
CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    editor_id uuid REFERENCES editors (id) ON DELETE SET NULL,
    editor_name text,
    action text NOT NULL,
    submission_id uuid,
    detail text NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_by_time ON audit_log (id DESC);
