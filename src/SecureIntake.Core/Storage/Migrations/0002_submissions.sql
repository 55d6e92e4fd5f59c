-- A submission is one witness's thread: the first message and files, later follow-ups, and the editors'
-- replies. Only what triage needs is kept in plaintext, and times only to the minute; every item's
-- content, its file name and its type live inside its ciphertext (a blob named by the item's id).
CREATE TABLE submissions (
    id uuid PRIMARY KEY,
    desk_id uuid NOT NULL REFERENCES desks (id),
    channel text NOT NULL CHECK (channel IN ('web', 'mail')),
    received_at timestamptz NOT NULL CHECK (received_at = date_trunc('minute', received_at)),
    witness_active_at timestamptz NOT NULL CHECK (witness_active_at = date_trunc('minute', witness_active_at)),
    status text NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'in-review', 'needs-follow-up', 'verified', 'published', 'discarded'))
);

CREATE INDEX submissions_by_desk_and_arrival ON submissions (desk_id, received_at DESC);

CREATE TABLE submission_items (
    id uuid PRIMARY KEY,
    submission_id uuid NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    -- Items sent together (one form post, one email) share a batch; each batch has one manifest item.
    batch_id uuid NOT NULL,
    author text NOT NULL CHECK (author IN ('witness', 'editor')),
    kind text NOT NULL CHECK (kind IN ('manifest', 'message', 'file', 'email')),
    ciphertext_bytes bigint NOT NULL CHECK (ciphertext_bytes > 0),
    added_at timestamptz NOT NULL CHECK (added_at = date_trunc('minute', added_at))
);

CREATE INDEX submission_items_by_submission ON submission_items (submission_id);
