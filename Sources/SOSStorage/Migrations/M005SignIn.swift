extension Migration {
    /// Passwordless and social sign-in: one-time codes (hashed), pending OAuth authorizations, links between
    /// provider accounts and users, the language a user reads, and a lookup index on phone numbers.
    static let m005SignIn = Migration(5, "sign-in", [
        """
        CREATE TABLE otp_codes (
            channel TEXT NOT NULL,
            destination TEXT NOT NULL,
            code_hash TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            expires_at {ts} NOT NULL,
            created_at {ts} NOT NULL,
            PRIMARY KEY (channel, destination)
        )
        """,
        """
        CREATE TABLE oauth_pending (
            id TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            code_verifier TEXT,
            expires_at {ts} NOT NULL
        )
        """,
        """
        CREATE TABLE social_accounts (
            provider TEXT NOT NULL,
            subject TEXT NOT NULL,
            user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            email TEXT,
            created_at {ts} NOT NULL,
            PRIMARY KEY (provider, subject)
        )
        """,
        "ALTER TABLE users ADD COLUMN language TEXT",
        "CREATE INDEX users_phone_idx ON users (phone)",
    ])
}
