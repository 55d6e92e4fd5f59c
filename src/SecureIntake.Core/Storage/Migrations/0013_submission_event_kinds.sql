-- A submission's history is stored as what happened (a kind, and the status, priority, editor, tag or reply number
-- it happened with), not as English text, so each editor reads it in their own language. Entries written before
-- keep their text in change and are shown as they are; a new entry has a kind and no text.
ALTER TABLE submission_events
    ADD COLUMN kind text CHECK (kind IN ('status', 'priority', 'assigned', 'unassigned', 'tag-added', 'tag-removed', 'hold-put', 'hold-lifted',
        'note-added', 'reply-sent')),
    ADD COLUMN value text,
    ALTER COLUMN change DROP NOT NULL,
    ADD CONSTRAINT submission_events_kind_or_text CHECK ((kind IS NULL) <> (change IS NULL));
