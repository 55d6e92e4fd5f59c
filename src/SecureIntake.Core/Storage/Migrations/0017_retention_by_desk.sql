-- The desk's home page asks on every load how many submissions retention deletes within three days, and the sweep asks
-- which are due. The bound is each desk's own (now minus its retention days), so both are asked one desk at a time and
-- read this index up to the bound, instead of comparing every submission of every desk (a sequential scan that was
-- most of a queue page's time at 100,000 submissions). Held submissions are never due, so they are not in it.
CREATE INDEX submissions_due_by_desk ON submissions (desk_id, witness_active_at) WHERE NOT on_hold;
