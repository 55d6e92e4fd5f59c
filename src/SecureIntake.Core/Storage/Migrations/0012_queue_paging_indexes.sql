-- The queue pages newest first, oldest first or by priority, and an editor of several desks pages through most of the
-- table. These indexes hold each order together with the desk, so the rows skipped to reach page N, and the desk scope
-- checked on them, come from the index alone (an index-only scan) instead of from every row's heap tuple.
CREATE INDEX submissions_by_arrival_in_desk ON submissions (received_at DESC, id) INCLUDE (desk_id);

-- Replaced by the one above: the same order, which it also serves.
DROP INDEX submissions_by_arrival;

-- Sorting by priority used to sort every submission in scope for each page. TriageListing orders by exactly this
-- expression (urgent first), then newest first.
CREATE INDEX submissions_by_priority ON submissions
    ((array_position(ARRAY['urgent','high','normal','low']::text[], priority)), received_at DESC, id) INCLUDE (desk_id);
