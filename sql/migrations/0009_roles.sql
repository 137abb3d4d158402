-- Roles. `member` and `moderator` live in users.roles; `admin` is users.is_superuser itself, so the two can
-- never disagree and every existing superuser is an admin without a write. The column is added in place
-- (ALGORITHM=INSTANT: no table copy, no row written, no long lock on a live users table), and its default
-- gives every existing user, and every user that code still running during the deploy creates, `member`.
ALTER TABLE users ADD COLUMN roles SET('member', 'moderator') NOT NULL DEFAULT 'member', ALGORITHM=INSTANT;
-- The scope a session's login asked for (space-separated permission codes; NULL: all the user has), so a
-- refresh keeps a narrowed grant narrow.
ALTER TABLE sessions ADD COLUMN scope VARCHAR(255) NULL, ALGORITHM=INSTANT;
