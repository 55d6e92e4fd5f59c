-- A witness thread's reply key: its certificate in the clear (replies are encrypted to it), its secret key
-- only sealed under the key derived from the codename. Mail submissions have neither, and no way back.
ALTER TABLE submissions
    ADD COLUMN reply_certificate bytea,
    ADD COLUMN reply_secret_key_sealed bytea,
    ADD CONSTRAINT submissions_reply_key_whole CHECK ((reply_certificate IS NULL) = (reply_secret_key_sealed IS NULL)),
    ADD CONSTRAINT submissions_reply_key_needs_codename CHECK (reply_certificate IS NULL OR codename_locator IS NOT NULL);

-- Editors' replies are items like any other (encrypted to the reply key and the desk), numbered per thread
-- so the witness reads them in the order they were written even within one minute.
ALTER TABLE submission_items
    DROP CONSTRAINT submission_items_kind_check,
    ADD CONSTRAINT submission_items_kind_check CHECK (kind IN ('manifest', 'message', 'file', 'email', 'reply')),
    ADD COLUMN reply_number integer,
    ADD CONSTRAINT submission_items_reply_numbered CHECK ((kind = 'reply') = (reply_number IS NOT NULL AND reply_number > 0)),
    ADD CONSTRAINT submission_items_reply_by_editor CHECK (kind <> 'reply' OR author = 'editor'),
    ADD CONSTRAINT submission_items_one_reply_per_number UNIQUE (submission_id, reply_number);
