-- An item's ciphertext is the blob named by its id until a grant or revoke rewrites its key packets: the rewrite
-- is written as a new blob, and blob_id switches to it in one transaction (null: the blob is named by the item's id).
-- Item ids never change, since the encrypted batch manifests name items by them.
ALTER TABLE submission_items ADD COLUMN blob_id uuid UNIQUE;
