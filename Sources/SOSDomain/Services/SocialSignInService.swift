import Foundation

/// Social sign-in providers.
public enum SocialProvider: String, Sendable, CaseIterable {
    case google
    case facebook
    case instagram

    public var displayName: String {
        switch self {
        case .google: "Google"
        case .facebook: "Facebook"
        case .instagram: "Instagram"
        }
    }
}

/// Who the provider says the person is.
public struct SocialProfile: Sendable, Equatable {
    public var subject: String
    public var email: String?
    /// True only when the provider asserts the email belongs to the person (e.g. Google's `email_verified`).
    public var emailVerified: Bool
    public var name: String?
    public var picture: String?

    public init(subject: String, email: String?, emailVerified: Bool, name: String?, picture: String?) {
        self.subject = subject
        self.email = email
        self.emailVerified = emailVerified
        self.name = name
        self.picture = picture
    }
}

/// One provider's OAuth 2.0 endpoints (HTTP at the edge).
public protocol OAuthProviderClient: Sendable {
    var supportsPKCE: Bool { get }
    /// The URL to send the browser to.
    func authorizationURL(state: String, codeChallenge: String?) -> String
    /// Exchanges the code at the token endpoint and reads the profile. Throws `DomainError.invalid` when the
    /// provider refuses the code, `.upstreamFailure` when it cannot be reached.
    func profile(code: String, codeVerifier: String?) async throws -> SocialProfile
}

/// A pending authorization, kept server-side until its callback (single use).
public struct OAuthPending: Sendable, Equatable {
    public var id: String
    public var provider: SocialProvider
    public var codeVerifier: String?
    public var expiresAt: Date
    /// The signed `client_state` given at the start, if any; the callback must bring the same one.
    public var clientBinding: String?

    public init(id: String, provider: SocialProvider, codeVerifier: String?, expiresAt: Date, clientBinding: String? = nil) {
        self.id = id
        self.provider = provider
        self.codeVerifier = codeVerifier
        self.expiresAt = expiresAt
        self.clientBinding = clientBinding
    }
}

/// Storage for pending authorizations and the links between provider accounts and users.
public protocol SocialAccountRepository: Sendable {
    func savePending(_ pending: OAuthPending) async throws
    /// Removes and returns a pending authorization (nil if unknown or already used).
    func takePending(id: String) async throws -> OAuthPending?
    func userId(provider: SocialProvider, subject: String) async throws -> UUID?
    func link(provider: SocialProvider, subject: String, userId: UUID, email: String?, at: Date) async throws
    /// Removes every provider account linked to a user.
    func unlinkAll(userId: UUID) async throws
}

/// Signs and checks `state` values (HMAC at the edge) and makes PKCE pairs.
public protocol OAuthStateSigner: Sendable {
    func sign(_ payload: String) -> String
    func verify(_ signed: String) -> String?
    /// A PKCE code verifier and its S256 challenge.
    func pkcePair() -> (verifier: String, challenge: String)
    func randomId() -> String
}

/// Sign-in with Google, Facebook or Instagram (OAuth 2.0 authorization code flow).
///
/// Rules: `state` is signed, expires after 10 minutes and works once (its pending record is deleted on use);
/// PKCE (S256) where the provider supports it. A provider account already linked signs in its user. Otherwise
/// an existing account is linked only when the provider asserts the email is verified; else a new patient is
/// created (never taking over an account by an unverified email).
public struct SocialSignInService: Sendable {
    let providers: [SocialProvider: any OAuthProviderClient]
    let accounts: any SocialAccountRepository
    let users: any UserRepository
    let claims: AccountClaims
    let auth: AuthService
    let signer: any OAuthStateSigner
    let stateLifetime: TimeInterval
    let now: @Sendable () -> Date

    public init(providers: [SocialProvider: any OAuthProviderClient], accounts: any SocialAccountRepository, users: any UserRepository,
                claims: AccountClaims, auth: AuthService, signer: any OAuthStateSigner, stateLifetime: TimeInterval = 600, now: @escaping @Sendable () -> Date = { Date() }) {
        self.providers = providers
        self.accounts = accounts
        self.users = users
        self.claims = claims
        self.auth = auth
        self.signer = signer
        self.stateLifetime = stateLifetime
        self.now = now
    }

    private func client(_ provider: SocialProvider) throws -> any OAuthProviderClient {
        guard let client = self.providers[provider] else {
            let prefix = provider.rawValue.uppercased()
            throw DomainError.unavailable(
                "\(provider.displayName) sign-in is not configured on this server: set \(prefix)_CLIENT_ID, \(prefix)_CLIENT_SECRET and \(prefix)_REDIRECT_URI."
            )
        }
        return client
    }

    /// Starts a sign-in: the provider URL with a fresh signed state (and PKCE challenge).
    ///
    /// `clientState` (optional) ties the sign-in to the client that starts it: a random value the client keeps
    /// (e.g. in session storage) and brings back to the callback. Without it, someone could start a sign-in with
    /// their own provider account and hand the callback link to a victim, who would then be signed in to the
    /// attacker's account (login CSRF). A client that always sends it, and ignores callbacks it did not start, is
    /// safe from that.
    public func start(_ provider: SocialProvider, clientState: String? = nil) async throws -> String {
        let client = try self.client(provider)
        let binding = try clientState.map { try self.binding(provider, $0) }
        let id = self.signer.randomId()
        let expiresAt = self.now().addingTimeInterval(self.stateLifetime)
        let pkce = client.supportsPKCE ? self.signer.pkcePair() : nil
        try await self.accounts.savePending(OAuthPending(
            id: id, provider: provider, codeVerifier: pkce?.verifier, expiresAt: expiresAt, clientBinding: binding
        ))
        let state = self.signer.sign("\(provider.rawValue).\(id).\(Int(expiresAt.timeIntervalSince1970))")
        return client.authorizationURL(state: state, codeChallenge: pkce?.challenge)
    }

    /// The stored form of a `client_state`: signed with the server key, so the database never holds the raw value.
    private func binding(_ provider: SocialProvider, _ clientState: String) throws -> String {
        guard (16...256).contains(clientState.count),
              clientState.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.~".contains($0)) })
        else {
            throw DomainError.invalid("'client_state' must be 16 to 256 URL-safe characters (letters, digits, - _ . ~), e.g. 32 random bytes in base64url.")
        }
        return String(self.signer.sign("client-state.\(provider.rawValue).\(clientState)").split(separator: ".").last ?? "")
    }

    /// Completes a sign-in from the provider's redirect.
    public func finish(_ provider: SocialProvider, code: String?, state: String?, error: String?, clientState: String? = nil) async throws -> AuthSession {
        let client = try self.client(provider)
        if let error {
            throw DomainError.invalid("\(provider.displayName) did not sign you in ('\(error.prefix(60))'). Start again from /api/v1/auth/\(provider.rawValue).")
        }
        guard let state, !state.isEmpty else { throw DomainError.invalid("'state' is missing. Start the sign-in again from /api/v1/auth/\(provider.rawValue).") }
        guard let code, !code.isEmpty, code.count <= 2048 else { throw DomainError.invalid("'code' is missing. Start the sign-in again.") }
        guard let payload = self.signer.verify(state) else {
            throw DomainError.invalid("'state' is not one this server issued. Start the sign-in again from /api/v1/auth/\(provider.rawValue).")
        }
        let parts = payload.split(separator: ".")
        guard parts.count == 3, parts[0] == Substring(provider.rawValue), let expiry = Int(parts[2]) else {
            throw DomainError.invalid("'state' belongs to another sign-in. Start again from /api/v1/auth/\(provider.rawValue).")
        }
        guard Date(timeIntervalSince1970: TimeInterval(expiry)) > self.now() else {
            throw DomainError.invalid("The sign-in took too long ('state' expired). Start again from /api/v1/auth/\(provider.rawValue).")
        }
        guard let pending = try await self.accounts.takePending(id: String(parts[1])), pending.provider == provider else {
            throw DomainError.invalid("This sign-in was already completed ('state' is single use). Start again from /api/v1/auth/\(provider.rawValue).")
        }
        // step: a sign-in started with a client_state completes only with it, and one started without it refuses one
        // (a client that brings its own value did not start this sign-in)
        guard pending.clientBinding == (try clientState.map { try self.binding(provider, $0) }) else {
            throw DomainError.invalid(
                "This sign-in was not started by this client ('client_state' does not match). Start again from /api/v1/auth/\(provider.rawValue)."
            )
        }
        let profile = try await client.profile(code: code, codeVerifier: pending.codeVerifier)
        let user = try await self.user(for: profile, provider: provider)
        guard user.status != .blocked else {
            throw DomainError.forbidden("This account is blocked. Contact the clinic to have it unblocked.")
        }
        return try await self.auth.startSession(for: user)
    }

    private func user(for profile: SocialProfile, provider: SocialProvider) async throws -> User {
        let now = self.now()
        if let linked = try await self.accounts.userId(provider: provider, subject: profile.subject), let user = try await self.users.find(id: linked) {
            return user
        }
        let email = profile.email.flatMap { try? Validate.email($0).lowercased() }
        // step: only an email the provider vouches for counts (an unverified one would let anybody hold an address for its owner)
        let verified = profile.emailVerified ? email : nil
        if let verified, let existing = try await self.users.find(email: verified) {
            let claimed = try await self.claims.claimEmail(existing, now: now)
            try await self.accounts.link(provider: provider, subject: profile.subject, userId: claimed.id, email: verified, at: now)
            return claimed
        }
        // step: a new patient, with the verified email (no account uses it, or it would have been claimed above)
        let name = profile.name.flatMap { try? Validate.name($0) } ?? email.map { String($0.split(separator: "@")[0]) } ?? "\(provider.displayName) user"
        // step: the provider's picture URL is not kept: profile pictures are only this server's uploads (an outside
        // image would tell the provider who looks at it, and the web client's CSP would not show it)
        let user = User(email: verified, name: name, role: .patient, status: .active, isEmailVerified: verified != nil, createdAt: now, updatedAt: now)
        try await self.users.create(user, passwordHash: nil)
        try await self.accounts.link(provider: provider, subject: profile.subject, userId: user.id, email: profile.email, at: now)
        return user
    }
}
