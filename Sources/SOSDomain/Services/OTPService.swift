import Foundation

/// Where a one-time code goes.
public enum OTPChannel: String, Sendable {
    case email
    case sms
    case whatsapp

    var outboxChannel: OutboxMessage.Channel {
        switch self {
        case .email: .email
        case .sms: .sms
        case .whatsapp: .whatsapp
        }
    }
}

/// A stored one-time code: only its keyed hash is kept.
public struct OTPRecord: Sendable, Equatable {
    public var channel: OTPChannel
    public var destination: String
    public var codeHash: String
    public var attempts: Int
    public var expiresAt: Date
    public var createdAt: Date

    public init(channel: OTPChannel, destination: String, codeHash: String, attempts: Int = 0, expiresAt: Date, createdAt: Date) {
        self.channel = channel
        self.destination = destination
        self.codeHash = codeHash
        self.attempts = attempts
        self.expiresAt = expiresAt
        self.createdAt = createdAt
    }
}

/// Storage of one-time codes.
public protocol OTPRepository: Sendable {
    /// In one transaction: replaces any code for the destination and queues the message that carries it.
    func replace(_ record: OTPRecord, message: OutboxMessage) async throws
    func find(channel: OTPChannel, destination: String) async throws -> OTPRecord?
    /// Takes one of the code's `maxTries` checks before the code is compared, atomically, so a parallel burst gets at
    /// most `maxTries` comparisons; returns the try's number, or nil when none is left (the code is then deleted).
    func reserveTry(channel: OTPChannel, destination: String, maxTries: Int) async throws -> Int?
    /// Deletes the code if it still has this hash (single use); false when another request took it first.
    func consume(channel: OTPChannel, destination: String, codeHash: String) async throws -> Bool
}

/// Keyed one-way hashing of codes and constant-time comparison (HMAC-SHA256 at the edge).
public protocol CodeHasher: Sendable {
    func hash(_ code: String, for destination: String) -> String
    func equal(_ a: String, _ b: String) -> Bool
}

/// Passwordless sign-in with a 6-digit code sent by email, SMS or WhatsApp.
///
/// Rules: codes come from the system CSPRNG and are stored only as a keyed hash; a code is valid 10 minutes,
/// works once, and is burned after 5 wrong tries; a new code replaces the previous one. Sending is rate limited
/// per destination and per client address, and answers the same whether or not an account exists. A correct
/// code signs in — creating a patient account on first use — and marks the email or phone verified.
public struct OTPService: Sendable {
    public struct Settings: Sendable {
        public var lifetime: TimeInterval
        public var maxWrongTries: Int
        public var perDestination: RateLimit
        public var perAddress: RateLimit
        public var verifyPerAddress: RateLimit

        public init(lifetime: TimeInterval = 600, maxWrongTries: Int = 5, perDestination: RateLimit = RateLimit(count: 5, per: 3600),
                    perAddress: RateLimit = RateLimit(count: 30, per: 3600), verifyPerAddress: RateLimit = RateLimit(count: 60, per: 3600)) {
            self.lifetime = lifetime
            self.maxWrongTries = maxWrongTries
            self.perDestination = perDestination
            self.perAddress = perAddress
            self.verifyPerAddress = verifyPerAddress
        }
    }

    let codes: any OTPRepository
    let users: any UserRepository
    let claims: AccountClaims
    let auth: AuthService
    let hasher: any CodeHasher
    let limiter: RateLimiter
    let settings: Settings
    let now: @Sendable () -> Date
    let randomCode: @Sendable () -> String

    public init(codes: any OTPRepository, users: any UserRepository, claims: AccountClaims, auth: AuthService, hasher: any CodeHasher,
                limiter: RateLimiter, settings: Settings = Settings(), now: @escaping @Sendable () -> Date = { Date() },
                randomCode: @escaping @Sendable () -> String = OTPService.secureCode) {
        self.codes = codes
        self.users = users
        self.claims = claims
        self.auth = auth
        self.hasher = hasher
        self.limiter = limiter
        self.settings = settings
        self.now = now
        self.randomCode = randomCode
    }

    /// Six digits, uniformly from the system CSPRNG (`SystemRandomNumberGenerator`: getrandom/arc4random).
    @Sendable public static func secureCode() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = Int.random(in: 0..<1_000_000, using: &generator)
        return String(repeating: "0", count: 6 - String(value).count) + String(value)
    }

    /// Checks and normalises a destination: a lower-cased email, or an E.164 phone number.
    public static func destination(_ raw: String, channel: OTPChannel) throws -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        switch channel {
        case .email: return try Validate.email(trimmed).lowercased()
        case .sms, .whatsapp: return try Validate.phoneE164(trimmed)
        }
    }

    /// Creates a code and queues its message. The caller answers the same way whatever happens here after the
    /// input checks, so the answer never says whether an account exists.
    public func send(channel: OTPChannel, to raw: String, client: String, language: Language) async throws {
        let destination = try Self.destination(raw, channel: channel)
        let now = self.now()
        if let wait = await self.limiter.consume("otp-ip:\(client)", limit: self.settings.perAddress, now: now) {
            throw DomainError.rateLimited(retryAfter: wait, "Too many codes requested from this address. Retry in \(wait) seconds.")
        }
        // step: SMS and WhatsApp share the budget of a number
        if let wait = await self.limiter.consume("otp-to:\(channel == .email ? "email" : "phone"):\(destination)", limit: self.settings.perDestination, now: now) {
            throw DomainError.rateLimited(retryAfter: wait, "Too many codes sent to this \(channel == .email ? "address" : "number"). Retry in \(wait) seconds.")
        }
        let code = self.randomCode()
        let minutes = Int((self.settings.lifetime / 60).rounded(.up))
        let message = OutboxMessage(
            channel: channel.outboxChannel, recipient: destination,
            subject: channel == .email ? MessageTemplates.codeSubject(language) : nil,
            body: MessageTemplates.codeBody(code, minutes: max(1, minutes), language), createdAt: now,
            expiresAt: now.addingTimeInterval(self.settings.lifetime)
        )
        try await self.codes.replace(
            OTPRecord(channel: channel, destination: destination, codeHash: self.hasher.hash(code, for: destination),
                      expiresAt: now.addingTimeInterval(self.settings.lifetime), createdAt: now),
            message: message
        )
    }

    /// Checks a code and signs in (creating the patient account on first use).
    /// `language`, when the request states one, is remembered for the user's later messages (reminders).
    public func verify(channel: OTPChannel, destination raw: String, code rawCode: String, client: String, language: Language? = nil) async throws -> AuthSession {
        let destination = try Self.destination(raw, channel: channel)
        let code = rawCode.trimmingCharacters(in: .whitespaces)
        guard code.count == 6, code.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw DomainError.invalid("'token' must be the 6-digit code from the message (digits only).")
        }
        let now = self.now()
        if let wait = await self.limiter.consume("otp-verify-ip:\(client)", limit: self.settings.verifyPerAddress, now: now) {
            throw DomainError.rateLimited(retryAfter: wait, "Too many code checks from this address. Retry in \(wait) seconds.")
        }
        let invalid = DomainError.unauthorized("The code is wrong or has expired. Check it, or request a new code.")
        let burned = DomainError.unauthorized("The code is wrong. After \(self.settings.maxWrongTries) wrong tries it no longer works: request a new code.")
        guard let record = try await self.codes.find(channel: channel, destination: destination), record.expiresAt > now else {
            throw invalid
        }
        // step: the try is counted before the comparison, so parallel guesses cannot all be checked against one code
        guard let attempt = try await self.codes.reserveTry(channel: channel, destination: destination, maxTries: self.settings.maxWrongTries) else {
            throw burned
        }
        let hash = self.hasher.hash(code, for: destination)
        guard self.hasher.equal(hash, record.codeHash) else {
            throw attempt >= self.settings.maxWrongTries ? burned : invalid
        }
        guard try await self.codes.consume(channel: channel, destination: destination, codeHash: hash) else { throw invalid }
        let user = try await self.signInUser(channel: channel, destination: destination, now: now)
        if let language { try await self.users.setLanguage(userId: user.id, language: language.rawValue) }
        return try await self.auth.startSession(for: user)
    }

    /// The account the verified destination signs in to: an account with that email (claimed, see
    /// `AccountClaims`), an account that had verified that phone number, or else a new patient.
    private func signInUser(channel: OTPChannel, destination: String, now: Date) async throws -> User {
        switch channel {
        case .email:
            if let existing = try await self.users.find(email: destination) {
                return try await self.claims.claimEmail(existing, now: now)
            }
        case .sms, .whatsapp:
            // step: an account that lists this number without having proved it is not handed to whoever holds
            // the number now (numbers are recycled and mistyped): that person gets an account of their own
            if let existing = try await self.users.find(phone: destination), existing.isPhoneVerified {
                guard existing.status != .blocked else {
                    throw DomainError.forbidden("This account is blocked. Contact the clinic to have it unblocked.")
                }
                return existing
            }
        }
        let name = channel == .email ? String(destination.split(separator: "@").first ?? "Patient") : "Patient"
        let user = User(
            email: channel == .email ? destination : nil, name: name, role: .patient, status: .active,
            phone: channel == .email ? nil : destination, isEmailVerified: channel == .email, isPhoneVerified: channel != .email,
            createdAt: now, updatedAt: now
        )
        try await self.users.create(user, passwordHash: nil)
        return user
    }
}
