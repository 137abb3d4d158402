-- Sessions the user can list: when each was last used (written at most about once a minute per session, by
-- the session check, never once per request) and the User-Agent of the login. Added in place; sessions from
-- before this migration count as last used when they were created.
ALTER TABLE sessions ADD COLUMN last_used_at DATETIME(6) NULL, ADD COLUMN user_agent VARCHAR(255) NULL, ALGORITHM=INSTANT;
UPDATE sessions SET last_used_at = created_at WHERE last_used_at IS NULL;

-- Idempotency-Key on creating POSTs. A key belongs to a caller (`scope`: "user:<id>", or "addr:<client address>"
-- for anonymous callers) and lives 24 hours. A row with no response_status is a request still in flight; the
-- response is written in the same transaction as the change it reports, so "recorded" means "committed".
CREATE TABLE idempotency_keys (
    scope VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    idempotency_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    request_hash BINARY(32) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    response_status SMALLINT UNSIGNED NULL,
    response_headers TEXT NULL,
    response_body MEDIUMBLOB NULL,
    PRIMARY KEY (scope, idempotency_key),
    -- the cleanup of expired keys
    KEY idempotency_keys_expires_at (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
