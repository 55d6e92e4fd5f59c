-- Desks are an access boundary: an editor sees and acts only on the submissions of the desks they are a
-- member of. Admins see every desk whatever this table says. A membership goes with its editor or desk:
-- neither can be removed and leave a row naming it.
CREATE TABLE desk_members (
    editor_id uuid NOT NULL REFERENCES editors (id) ON DELETE CASCADE,
    desk_id uuid NOT NULL REFERENCES desks (id) ON DELETE CASCADE,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (editor_id, desk_id)
);

CREATE INDEX desk_members_by_desk ON desk_members (desk_id);

-- Until now every editor saw every desk: an upgrade takes nothing away from anyone, so each existing editor
-- becomes a member of each existing desk, and admins narrow that afterwards (`secureintake editors desks`).
INSERT INTO desk_members (editor_id, desk_id) SELECT e.id, d.id FROM editors e CROSS JOIN desks d;
