-- Emails taken from a mailbox whose removal from the mail server is not yet confirmed. A row is written
-- in the same transaction as the submission and deleted once the message is gone from the server, so
-- after a crash in between the next run removes the message instead of taking it in twice. The digest
-- finds the same message again if the server renumbered its UIDs (a new UIDVALIDITY) meanwhile.
CREATE TABLE mail_messages (
    mailbox text NOT NULL,
    uid_validity bigint NOT NULL,
    uid bigint NOT NULL,
    digest bytea NOT NULL CHECK (octet_length(digest) = 32),
    submission_id uuid NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    PRIMARY KEY (mailbox, uid_validity, uid)
);

CREATE INDEX mail_messages_by_digest ON mail_messages (mailbox, digest);

-- How background parts are doing, for the desk: last success, last failure (kind and message, never
-- content), failures in a row, and when the next attempt is due (back-off).
CREATE TABLE service_status (
    component text PRIMARY KEY,
    succeeded_at timestamptz,
    failed_at timestamptz,
    failure text,
    failures_in_a_row integer NOT NULL DEFAULT 0,
    retry_after timestamptz,
    quarantined integer NOT NULL DEFAULT 0,
    quarantined_at timestamptz
);
