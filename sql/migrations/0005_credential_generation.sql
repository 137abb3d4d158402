-- A user's credential generation. Setting a password (a change, a reset, an admin's) bumps it, and a session
-- carries the generation its login verified: the session check requires the two to match, so a session
-- whose login verified the old password just before a change is dead on arrival. Added in place
-- (ALGORITHM=INSTANT: no table copy, no long lock on a live database); existing rows start at 0.
ALTER TABLE users ADD COLUMN credential_generation INT UNSIGNED NOT NULL DEFAULT 0, ALGORITHM=INSTANT;
ALTER TABLE sessions ADD COLUMN credential_generation INT UNSIGNED NOT NULL DEFAULT 0, ALGORITHM=INSTANT;
