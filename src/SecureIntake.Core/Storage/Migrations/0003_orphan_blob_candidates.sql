-- Blobs on disk that no item row names: left by a crash between writing and committing. The sweep deletes
-- one only after it has been seen orphaned for a long grace period, so an upload still in progress
-- (which has no row until it commits) is never touched.
CREATE TABLE orphan_blob_candidates (
    blob_id uuid PRIMARY KEY,
    first_seen timestamptz NOT NULL
);
