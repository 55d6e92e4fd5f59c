-- Where an editor is told about new activity, and their own key to encrypt that email to.
ALTER TABLE editors
    ADD COLUMN notify_email text CHECK (notify_email ~ '^[^@\s]+@[^@\s]+$'),
    ADD COLUMN key_fingerprint text CHECK (key_fingerprint ~ '^[0-9A-F]{40}$');

-- Activity not yet told to editors, counted per desk in the same transaction as each commit; the
-- notification job sends on a fixed schedule and subtracts what it told, only once the mail went out.
CREATE TABLE notification_pending (
    desk_id uuid PRIMARY KEY REFERENCES desks (id) ON DELETE CASCADE,
    new_submissions integer NOT NULL DEFAULT 0 CHECK (new_submissions >= 0),
    follow_ups integer NOT NULL DEFAULT 0 CHECK (follow_ups >= 0)
);
