-- What the witness side took in, per clock hour, for every web node together: counted in each process's memory,
-- N web nodes admitted N times Intake:HourlyPosts and Intake:HourlyBytes, so a flood cost the newsroom N times the
-- disk. Only counts per hour are kept, nothing about any post or witness; a row is removed once its hour is over.
CREATE TABLE intake_hours (
    hour timestamptz PRIMARY KEY CHECK (hour = date_trunc('hour', hour, 'UTC')),
    posts bigint NOT NULL CHECK (posts >= 0),
    bytes bigint NOT NULL CHECK (bytes >= 0)
);
