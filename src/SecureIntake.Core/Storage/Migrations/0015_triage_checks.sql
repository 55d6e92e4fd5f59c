-- One row per batch whose triage job completed: the job queue delivers a job at least once (a worker killed
-- mid-job gets it again), so the job records its outcome here and a second delivery finds the row and stops.
-- No time is kept: with the ids it would record when a witness wrote.
CREATE TABLE triage_checks (
    batch_id uuid PRIMARY KEY,
    submission_id uuid NOT NULL REFERENCES submissions (id) ON DELETE CASCADE
);

CREATE INDEX triage_checks_by_submission ON triage_checks (submission_id);
