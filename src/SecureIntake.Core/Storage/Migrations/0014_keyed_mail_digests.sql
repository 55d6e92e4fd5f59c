-- The ledger's digest becomes an HMAC under a key derived from the pepper, which the database never holds: a
-- plain SHA-256 let anyone with a copy of an email confirm from the database, its WAL or a backup that it
-- reached the newsroom. Old digests cannot be rekeyed here (that needs the message and the key), so they are
-- dropped and their rows kept: a row lives only until its message is expunged, and its mailbox position still
-- stops that message being taken twice. Only the digest match of a mailbox renumbered in that short window is
-- lost, which at worst stores such a message twice, never loses it. Only rows from before this migration are NULL.
ALTER TABLE mail_messages ALTER COLUMN digest DROP NOT NULL;
UPDATE mail_messages SET digest = NULL;

-- Addresses an acknowledgement went to, only as an HMAC of the normalised address under another pepper-derived
-- key, and the hour until which none goes there again; a row is deleted once that hour has passed.
CREATE TABLE acknowledged_senders (
    sender_mac bytea PRIMARY KEY CHECK (octet_length(sender_mac) = 32),
    quiet_until timestamptz NOT NULL
);
