-- Clients (an IPv4 address or an IPv6 /64) from which an account logged in successfully. The per-account
-- failure budget, which counts guesses from every address, does not apply to them: an attacker who spends
-- the budget cannot lock the owner out of the places they already use.
CREATE TABLE login_known_clients (
    email_normalized VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    client_address VARCHAR(45) NOT NULL,
    last_success_at DATETIME(6) NOT NULL,
    PRIMARY KEY (email_normalized, client_address)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
