-- Users. Email is unique case-insensitively through a stored, lowered copy with a binary collation,
-- so the unique key compares exact bytes of the lowered address.
CREATE TABLE users (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    email VARCHAR(254) NOT NULL,
    email_normalized VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin AS (LOWER(email)) STORED,
    hashed_password VARCHAR(255) NOT NULL,
    full_name VARCHAR(100) NULL,
    is_active BOOL NOT NULL DEFAULT TRUE,
    is_superuser BOOL NOT NULL DEFAULT FALSE,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY users_email_unique (email_normalized),
    -- keyset pagination: ORDER BY created_at, id
    KEY users_created_at_id (created_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
