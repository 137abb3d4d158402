-- Whether the user proved their email address (a verification link, or a password reset through it). Sign-up
-- and an email change set it false. Accounts from before this migration start unverified, as new ones do.
ALTER TABLE users ADD COLUMN email_verified BOOL NOT NULL DEFAULT FALSE, ALGORITHM=INSTANT;

-- Single-use tokens sent by mail (password reset, email verification). Only the SHA-256 of a token is stored.
-- `email` is the address the mail went to: a verification holds only while it is still the user's address.
-- A password-recovery request for an unknown address writes a row without a user (user_id NULL), so that both
-- answers cost the same; such rows can never be redeemed and go with the expired ones.
CREATE TABLE email_tokens (
    token_hash BINARY(32) NOT NULL,
    purpose ENUM('reset_password', 'verify_email') NOT NULL,
    user_id BIGINT UNSIGNED NULL,
    email VARCHAR(254) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    used_at DATETIME(6) NULL,
    PRIMARY KEY (token_hash),
    -- the resend limit: a user's newest token of a purpose
    KEY email_tokens_user_purpose (user_id, purpose, created_at),
    KEY email_tokens_expires_at (expires_at),
    CONSTRAINT email_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The transactional outbox: a mail is a row written in the same transaction as the change that causes it,
-- sent afterwards by `perch mail-sender`. pending -> sent (bodies cleared: they hold single-use tokens), or
-- pending -> failed after the last attempt (kept, with the last error, for the operator).
CREATE TABLE mail_outbox (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    recipient VARCHAR(254) NOT NULL,
    subject VARCHAR(255) NOT NULL,
    text_body MEDIUMTEXT NULL,
    html_body MEDIUMTEXT NULL,
    status ENUM('pending', 'sent', 'failed') NOT NULL DEFAULT 'pending',
    attempts INT UNSIGNED NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6) NOT NULL,
    last_error VARCHAR(500) NULL,
    created_at DATETIME(6) NOT NULL,
    sent_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    -- the sender's claim: pending rows that are due, oldest first
    KEY mail_outbox_due (status, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
