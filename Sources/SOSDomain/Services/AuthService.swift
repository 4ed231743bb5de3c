import Foundation
import Logging

/// Sign-up, sign-in, token refresh and sign-out, and turning a bearer token into a `Principal`.
///
/// Rules that live here: passwords are checked before anything is revealed, blocked accounts cannot sign
/// in and their tokens stop working, refresh tokens rotate and a reused one revokes its whole family,
/// and sign-in attempts are rate limited per client address and per account.
public struct AuthService: Sendable {
    /// Token lifetimes and rate limits.
    public struct Settings: Sendable {
        public var accessTokenLifetime: TimeInterval
        public var refreshTokenLifetime: TimeInterval
        public var loginPerAddress: RateLimit
        public var loginFailuresPerAccount: RateLimit
        public var registerPerAddress: RateLimit
        public var registerPerAccount: RateLimit

        public init(
            accessTokenLifetime: TimeInterval = 15 * 60,
            refreshTokenLifetime: TimeInterval = 30 * 24 * 3600,
            loginPerAddress: RateLimit = RateLimit(count: 30, per: 60),
            loginFailuresPerAccount: RateLimit = RateLimit(count: 10, per: 15 * 60),
            registerPerAddress: RateLimit = RateLimit(count: 20, per: 3600),
            registerPerAccount: RateLimit = RateLimit(count: 5, per: 3600)
        ) {
            self.accessTokenLifetime = accessTokenLifetime
            self.refreshTokenLifetime = refreshTokenLifetime
            self.loginPerAddress = loginPerAddress
            self.loginFailuresPerAccount = loginFailuresPerAccount
            self.registerPerAddress = registerPerAddress
            self.registerPerAccount = registerPerAccount
        }
    }

    let users: any UserRepository
    let tokens: any TokenStore
    let hasher: any PasswordHasher
    let codec: any AccessTokenCodec
    let secrets: any SecretSource
    let limiter: RateLimiter
    let cache: PrincipalCache
    let settings: Settings
    let now: @Sendable () -> Date

    public init(
        users: any UserRepository,
        tokens: any TokenStore,
        hasher: any PasswordHasher,
        codec: any AccessTokenCodec,
        secrets: any SecretSource,
        limiter: RateLimiter,
        cache: PrincipalCache = PrincipalCache(ttl: 0),
        settings: Settings = Settings(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.users = users
        self.tokens = tokens
        self.hasher = hasher
        self.codec = codec
        self.secrets = secrets
        self.limiter = limiter
        self.cache = cache
        self.settings = settings
        self.now = now
    }

    /// Creates a patient account with a password and signs it in.
    public func register(
        email rawEmail: String, password: String, name rawName: String, phone rawPhone: String?, requestedRole: Role? = nil, client: String
    ) async throws -> AuthSession {
        if let requestedRole, requestedRole != .patient {
            throw DomainError.forbidden("Sign-up always creates a patient account; '\(requestedRole.rawValue)' accounts are created by an administrator.")
        }
        let email = try Validate.email(rawEmail)
        try Validate.password(password)
        let name = try Validate.name(rawName)
        let phone = try rawPhone.flatMap { try Validate.optionalPhone($0) }
        let now = self.now()
        if let wait = await self.limiter.consume("register-ip:\(client)", limit: self.settings.registerPerAddress, now: now) {
            throw DomainError.rateLimited(retryAfter: wait, "Too many sign-ups from this address. Retry in \(wait) seconds.")
        }
        if let wait = await self.limiter.consume("register-account:\(email)", limit: self.settings.registerPerAccount, now: now) {
            throw DomainError.rateLimited(retryAfter: wait, "Too many sign-up attempts for this email. Retry in \(wait) seconds.")
        }
        guard try await self.users.find(email: email) == nil else {
            throw DomainError.conflict("An account with email \(email) already exists. Sign in instead, or use another email.")
        }
        let hash = try await self.hasher.hash(password)
        let user = User(email: email, name: name, role: .patient, status: .active, phone: phone, createdAt: now, updatedAt: now)
        try await self.users.create(user, passwordHash: hash)
        return try await self.startSession(for: user)
    }

    /// Checks an email and password; answers the same way for an unknown email and a wrong password.
    public func login(email rawEmail: String, password: String, client: String) async throws -> AuthSession {
        let email = try Validate.email(rawEmail)
        try Validate.password(password)
        let now = self.now()
        if let wait = await self.limiter.consume("login-ip:\(client)", limit: self.settings.loginPerAddress, now: now) {
            throw DomainError.rateLimited(retryAfter: wait, "Too many sign-in attempts from this address. Retry in \(wait) seconds.")
        }
        let accountKey = "login-account:\(email)"
        // step: the attempt is counted before bcrypt runs (and forgiven on success), so a parallel burst of guesses gets
        // at most the account's budget of password checks, the rest 429
        if let wait = await self.limiter.consume(accountKey, limit: self.settings.loginFailuresPerAccount, now: now) {
            throw DomainError.rateLimited(retryAfter: wait, "Too many failed sign-ins for this account. Retry in \(wait) seconds.")
        }
        let found = try await self.users.credentials(email: email)
        let valid: Bool
        if let hash = found?.passwordHash {
            valid = try await self.hasher.verify(password, hash: hash)
        } else {
            await self.hasher.burnVerification(password)
            valid = false
        }
        guard valid, let user = found?.user else {
            throw DomainError.unauthorized("Invalid email or password.")
        }
        guard user.status != .blocked else {
            throw DomainError.forbidden("This account is blocked. Contact the clinic to have it unblocked.")
        }
        await self.limiter.reset(accountKey)
        return try await self.startSession(for: user)
    }

    /// Issues an access token and a new refresh-token family for a user who just proved who they are.
    public func startSession(for user: User) async throws -> AuthSession {
        let now = self.wholeSecondNow()
        let refresh = self.secrets.randomToken()
        let key = UUID().uuidString.lowercased()
        let accessExpiry = now.addingTimeInterval(self.settings.accessTokenLifetime)
        let access = try await self.codec.issue(for: user, key: key, issuedAt: now, expiresAt: accessExpiry)
        try await self.tokens.insert(
            RefreshTokenRecord(
                userId: user.id, familyId: UUID(), tokenHash: self.secrets.digest(refresh), accessTokenKey: key,
                accessExpiresAt: accessExpiry, expiresAt: now.addingTimeInterval(self.settings.refreshTokenLifetime), createdAt: now
            )
        )
        return AuthSession(user: user, accessToken: access, refreshToken: refresh)
    }

    /// Spends a refresh token and returns a new access token and refresh token.
    public func refresh(token: String) async throws -> AuthSession {
        let trimmed = token.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw DomainError.unauthorized("Unknown refresh token. Sign in again.") }
        let now = self.wholeSecondNow()
        let newRefresh = self.secrets.randomToken()
        let newKey = UUID().uuidString.lowercased()
        let accessExpiry = now.addingTimeInterval(self.settings.accessTokenLifetime)
        let outcome = try await self.tokens.rotate(tokenHash: self.secrets.digest(trimmed), now: now) { userId, familyId in
            RefreshTokenRecord(
                userId: userId, familyId: familyId, tokenHash: self.secrets.digest(newRefresh), accessTokenKey: newKey,
                accessExpiresAt: accessExpiry, expiresAt: now.addingTimeInterval(self.settings.refreshTokenLifetime), createdAt: now
            )
        }
        switch outcome {
        case .unknown:
            throw DomainError.unauthorized("Unknown refresh token. Sign in again.")
        case .expired:
            throw DomainError.unauthorized("The refresh token expired. Sign in again.")
        case .reused:
            throw DomainError.unauthorized("This refresh token was already used; every session it belonged to is now signed out. Sign in again.")
        case .revoked(let userId, let reason):
            let user = try await self.users.find(id: userId)
            if user?.status == .blocked { throw DomainError.forbidden(RevocationReason.blocked.message) }
            throw DomainError.unauthorized(reason.message(for: user))
        case .rotated(let userId):
            guard let user = try await self.users.find(id: userId) else {
                throw DomainError.unauthorized("The account for this token no longer exists.")
            }
            guard user.status != .blocked else {
                try await self.tokens.revokeAll(userId: user.id, now: now, reason: .blocked)
                throw DomainError.forbidden(RevocationReason.blocked.message)
            }
            let access = try await self.codec.issue(for: user, key: newKey, issuedAt: now, expiresAt: accessExpiry)
            return AuthSession(user: user, accessToken: access, refreshToken: newRefresh)
        }
    }

    /// Now, truncated to whole seconds: JWT `iat`/`exp` are whole seconds, and stored expiries must match them.
    private func wholeSecondNow() -> Date {
        Date(timeIntervalSince1970: self.now().timeIntervalSince1970.rounded(.down))
    }

    /// Revokes the presented access token, the refresh tokens issued with it, and `refreshToken` if given.
    public func logout(_ principal: Principal, refreshToken: String?) async throws {
        let now = self.now()
        try await self.tokens.revokeAccessToken(key: principal.tokenKey, userId: principal.id, expiresAt: principal.tokenExpiresAt, now: now)
        try await self.tokens.revokeFamilies(ofAccessToken: principal.tokenKey, now: now)
        if let refreshToken, !refreshToken.isEmpty {
            try await self.tokens.revokeFamily(ofRefreshToken: self.secrets.digest(refreshToken), userId: principal.id, now: now)
        }
    }

    /// Turns a bearer token into the caller: signature, expiry, revocation and account state are all checked.
    public func authenticate(bearer token: String) async throws -> Principal {
        let now = self.now()
        if let cached = self.cache.principal(for: token, now: now) { return cached }
        let verified = try await self.codec.verify(token)
        let snapshot = try await self.users.authSnapshot(id: verified.userId, tokenKey: verified.key)
        guard let user = snapshot.user else {
            throw DomainError.unauthorized("The account for this token no longer exists.")
        }
        // step: a blocked account says so, whether or not its tokens were revoked yet, so the client can tell its user why
        guard user.status != .blocked else {
            throw DomainError.unauthorized(RevocationReason.blocked.message)
        }
        if let reason = snapshot.revoked {
            throw DomainError.unauthorized(reason.message(for: user))
        }
        let principal = Principal(user: user, tokenKey: verified.key, tokenExpiresAt: verified.expiresAt)
        self.cache.store(principal, for: token, now: now)
        return principal
    }
}
