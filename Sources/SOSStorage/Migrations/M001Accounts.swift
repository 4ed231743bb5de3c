extension Migration {
    /// Users, secretaries' doctors, refresh tokens and revoked access tokens.
    static let m001Accounts = Migration(1, "accounts", [
        """
        CREATE TABLE users (
            id {uuid} PRIMARY KEY,
            email TEXT UNIQUE,
            name TEXT NOT NULL,
            password_hash TEXT,
            role TEXT NOT NULL,
            status TEXT NOT NULL,
            phone TEXT,
            profile_picture TEXT,
            is_email_verified {bool} NOT NULL,
            is_phone_verified {bool} NOT NULL,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )
        """,
        "CREATE INDEX users_role_idx ON users (role, created_at)",
        "CREATE INDEX users_created_idx ON users (created_at)",
        """
        CREATE TABLE secretary_doctors (
            secretary_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            doctor_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            PRIMARY KEY (secretary_id, doctor_id)
        )
        """,
        "CREATE INDEX secretary_doctors_doctor_idx ON secretary_doctors (doctor_id)",
        """
        CREATE TABLE refresh_tokens (
            id {uuid} PRIMARY KEY,
            user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            family_id {uuid} NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            access_token_key TEXT NOT NULL,
            access_expires_at {ts} NOT NULL,
            expires_at {ts} NOT NULL,
            created_at {ts} NOT NULL,
            revoked_at {ts}
        )
        """,
        "CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)",
        "CREATE INDEX refresh_tokens_access_idx ON refresh_tokens (access_token_key)",
        "CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id)",
        """
        CREATE TABLE revoked_tokens (
            token_key TEXT PRIMARY KEY,
            user_id {uuid} NOT NULL,
            expires_at {ts} NOT NULL,
            revoked_at {ts} NOT NULL
        )
        """,
        "CREATE INDEX revoked_tokens_expiry_idx ON revoked_tokens (expires_at)",
    ])
}
