extension Migration {
    /// A pending OAuth sign-in remembers the client's `client_state` (signed), so the callback can be tied to
    /// the client that started it.
    static let m007OAuthBinding = Migration(7, "oauth-client-binding", [
        "ALTER TABLE oauth_pending ADD COLUMN client_binding TEXT",
    ])
}
