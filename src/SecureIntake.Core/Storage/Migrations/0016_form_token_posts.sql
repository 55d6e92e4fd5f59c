-- Posts made with each witness form token, for every web node together: counted in one process's memory, a form
-- re-sent to another node behind the same onion service was stored a second time. A row lives while a post of
-- its token is in progress or one was kept, and until the token expires; the expiry is rounded up to the hour so
-- the row does not tell to the minute when the witness opened the form.
CREATE TABLE form_token_posts (
    nonce text PRIMARY KEY CHECK (length(nonce) <= 64),
    posts integer NOT NULL CHECK (posts >= 0),
    expires_at timestamptz NOT NULL CHECK (expires_at = date_trunc('hour', expires_at))
);
