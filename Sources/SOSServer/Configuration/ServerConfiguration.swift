import Foundation
import Logging
import SOSDomain
import SOSRealtime
import SOSStorage

/// Everything the server reads from its environment (and the same settings given as CLI flags).
public struct ServerConfiguration: Sendable {
    /// `SOS_ENV`: development seeds the default admin and exposes development endpoints.
    public enum Mode: String, Sendable {
        case development
        case production
    }

    public var mode: Mode = .development
    /// `SOS_ALLOW_DEVELOPMENT_ON_NETWORK`: development mode (a known admin password, codes readable in the outbox, an
    /// echo route) listens on loopback only unless this is set.
    public var allowDevelopmentOnNetwork = false
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// `DATABASE_URL`; unset means embedded SQLite in `dataDirectory`.
    public var databaseURL: String?
    /// `SOS_DB_SCHEMA`: PostgreSQL schema to use (its `search_path`); unset means the server's default.
    public var databaseSchema: String?
    public var dataDirectory: String = "./data"
    public var jwtSecret: String?
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// `CORS_ORIGINS`, comma separated; `*` allows any origin.
    public var corsOrigins: [String] = []
    /// Where `protocol/` and `web-demo/` are read from (`SOS_ASSETS_DIR`, default: the working directory).
    public var assetsDirectory: String = "."
    public var logLevel: Logger.Level = .info
    public var bcryptCost: Int = 11
    public var accessTokenLifetime: TimeInterval = 15 * 60
    public var refreshTokenLifetime: TimeInterval = 30 * 24 * 3600
    /// Sign-in attempts per client address per minute.
    public var loginAttemptsPerMinute: Int = 30
    /// Failed sign-ins per account per 15 minutes before the account is throttled.
    public var loginFailuresPerAccount: Int = 10
    /// Sign-ups per client address per hour.
    public var registrationsPerHour: Int = 20
    /// Largest JSON request body accepted, in bytes.
    public var maxBodyBytes: Int = 1 << 20
    /// `SOS_UPLOAD_QUOTA_MB`: what each user may upload in all (profile pictures and record attachments).
    public var uploadQuotaBytes: Int = 100 << 20
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    public var trustForwardedFor: Bool = false
    /// PostgreSQL pool size.
    public var databaseMaxConnections: Int = 20
    /// Bounds on waiting for PostgreSQL: a pooled connection, one statement (`SOS_DB_ACQUIRE_TIMEOUT_MS`, `SOS_DB_STATEMENT_TIMEOUT_MS`).
    public var databaseTimeouts = DatabaseTimeouts()
    /// `STRIPE_SECRET_KEY`: card payments go through Stripe when set; otherwise every payment is manual.
    public var stripeSecretKey: String?
    /// `STRIPE_PUBLISHABLE_KEY`: given to the browser client (`GET /api/v1/config`) so it loads Stripe.js and shows
    /// the card form; only then does the client's Content-Security-Policy allow Stripe's hosts.
    public var stripePublishableKey: String?
    /// `STRIPE_WEBHOOK_SECRET`: verifies `POST /payments/webhook`.
    public var stripeWebhookSecret: String?
    /// `STRIPE_API_BASE`: Stripe's API root (tests point it at a local fake).
    public var stripeAPIBase: String = "https://api.stripe.com"
    /// `SOS_REPORTING_CURRENCY`: the currency of the dashboard's `totalRevenue`.
    public var reportingCurrency: Currency = try! Currency("USD")
    /// `SOS_AUTH_CACHE_SECONDS`: how long an authenticated token is remembered (0 disables). Changes made on
    /// this node apply at once; changes made on another node within this time.
    public var authCacheSeconds: TimeInterval = 2
    /// `SOS_DOCTOR_SEARCH_CACHE_MS`: how long a page of the patients' doctor search is reused (0, the default,
    /// disables). Any write on this node drops it at once; a change made on another node shows within twice this
    /// time. Off by default: it multiplies the search's throughput but, measured with the load tool on the same two
    /// cores, its p99 came out worse than without it (`Benchmarks/README.md`).
    public var doctorSearchCacheMilliseconds = 0
    /// WebSocket hub limits and timings.
    public var hub = HubConfiguration()
    /// Connection caps and slow-client timeouts (`SOS_MAX_CONNECTIONS`, `SOS_MAX_CONNECTIONS_PER_ADDRESS`,
    /// `SOS_HEADER_TIMEOUT_SECONDS`, `SOS_BODY_TIMEOUT_SECONDS`, `SOS_MAX_PENDING_WEBSOCKETS`).
    public var connections = ConnectionLimits()
    /// `SOS_STUN_URLS`: STUN servers offered to WebRTC clients (comma separated).
    public var stunURLs: [String] = ["stun:stun.l.google.com:19302"]
    /// `SOS_TURN_URLS`: TURN servers (comma separated); credentials need `SOS_TURN_SECRET`.
    public var turnURLs: [String] = []
    /// `SOS_TURN_SECRET`: the TURN server's shared secret (TURN REST API, e.g. coturn `static-auth-secret`).
    public var turnSecret: String?
    /// `SOS_TURN_TTL`: seconds a TURN credential stays valid.
    public var turnTTL: TimeInterval = 3600
    /// How long unpaid bookings hold their slot and how many a patient may hold (`SOS_BOOKING_HOLD_MINUTES`,
    /// `SOS_CLINIC_CONFIRM_HOURS`, `SOS_MAX_UNPAID_BOOKINGS`); whether payments go online follows `STRIPE_SECRET_KEY`.
    public var booking = BookingRules()
    /// How often ended holds are looked for (`SOS_HOLD_SWEEP_SECONDS`).
    public var holdSweepInterval: Duration = .seconds(15)
    /// SOS matching: waves, widening, video fallback and "no doctor" timings (`SOS_DISPATCH_WAVE_SIZE`,
    /// `SOS_DISPATCH_WAVE_SECONDS`, `SOS_DISPATCH_VIDEO_AFTER_SECONDS`, `SOS_DISPATCH_NO_DOCTOR_AFTER_SECONDS`).
    public var dispatch = DispatchRules()
    /// How often due SOS waves and timeouts are run (`SOS_DISPATCH_SWEEP_SECONDS`).
    public var dispatchSweepInterval: Duration = .seconds(2)
    /// How often the reminder job looks for due reminders (`SOS_REMINDER_INTERVAL`, seconds).
    public var reminderInterval: Duration = .seconds(30)

    /// Twilio (SMS and WhatsApp): `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_FROM` (SMS sender, E.164),
    /// `TWILIO_WHATSAPP_FROM` (WhatsApp sender), `TWILIO_API_BASE`.
    public var twilioAccountSid: String?
    public var twilioAuthToken: String?
    public var twilioFrom: String?
    public var twilioWhatsAppFrom: String?
    public var twilioAPIBase: String = "https://api.twilio.com"
    /// Postmark (email): `POSTMARK_SERVER_TOKEN`, `EMAIL_FROM` (a sender signature), `POSTMARK_API_BASE`.
    public var postmarkServerToken: String?
    public var emailFrom: String?
    public var postmarkAPIBase: String = "https://api.postmarkapp.com"
    /// OAuth providers configured with `{GOOGLE,FACEBOOK,INSTAGRAM}_CLIENT_ID`, `_CLIENT_SECRET`, `_REDIRECT_URI`
    /// (and optionally `_AUTH_URL`, `_TOKEN_URL`, `_PROFILE_URL`, `_SCOPE`).
    public var oauth: [SocialProvider: OAuthSettings] = [:]
    /// How long an OAuth `state` stays valid.
    public var oauthStateLifetime: TimeInterval = 600
    /// One-time codes: lifetime (`SOS_OTP_TTL`, seconds) and send limits per destination and per client address
    /// (`SOS_OTP_PER_DESTINATION_PER_HOUR`, `SOS_OTP_PER_ADDRESS_PER_HOUR`).
    public var otpLifetime: TimeInterval = 600
    public var otpPerDestinationPerHour: Int = 5
    public var otpPerAddressPerHour: Int = 30
    /// Outbox delivery: how often it looks for due messages (`SOS_OUTBOX_INTERVAL_MS`) and the first retry delay
    /// (`SOS_OUTBOX_RETRY_BASE`, seconds; doubles on each failure, at most an hour).
    public var outboxInterval: Duration = .seconds(1)
    public var outboxRetryBase: TimeInterval = 5
    /// The wall clock of the time-limited rules (code and `state` expiry, retry backoff, booking holds). Always the
    /// system clock in the server; tests move it forward instead of sleeping.
    public var clock: @Sendable () -> Date = { Date() }

    public init() {}

    /// Reads the documented environment variables; unknown values fail with a message naming the variable.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerConfiguration {
        var config = ServerConfiguration()
        try config.apply(environment)
        return config
    }

    /// Overlays settings from `values` (environment variable names as keys).
    public mutating func apply(_ values: [String: String]) throws {
        func string(_ key: String) -> String? {
            guard let value = values[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        func int(_ key: String, range: ClosedRange<Int>) throws -> Int? {
            guard let raw = string(key) else { return nil }
            guard let value = Int(raw), range.contains(value) else {
                throw ConfigurationError("\(key) must be an integer in \(range.lowerBound)...\(range.upperBound) (got '\(raw)').")
            }
            return value
        }
        if let raw = string("SOS_ENV") {
            guard let mode = Mode(rawValue: raw.lowercased()) else {
                throw ConfigurationError("SOS_ENV must be 'development' or 'production' (got '\(raw)').")
            }
            self.mode = mode
        }
        if let host = string("SOS_HOST") { self.host = host }
        if let port = try int("SOS_PORT", range: 0...65535) { self.port = port }
        if let url = string("DATABASE_URL") { self.databaseURL = url }
        if let schema = string("SOS_DB_SCHEMA") {
            guard schema.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw ConfigurationError("SOS_DB_SCHEMA must contain only letters, digits and underscores (got '\(schema)').")
            }
            self.databaseSchema = schema
        }
        if let dir = string("SOS_DATA_DIR") { self.dataDirectory = dir }
        if let secret = values["JWT_SECRET"], !secret.isEmpty { self.jwtSecret = secret }
        if let cert = string("SOS_TLS_CERT") { self.tlsCertificatePath = cert }
        if let key = string("SOS_TLS_KEY") { self.tlsKeyPath = key }
        if let origins = values["CORS_ORIGINS"] {
            self.corsOrigins = origins.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let dir = string("SOS_ASSETS_DIR") { self.assetsDirectory = dir }
        if let raw = string("LOG_LEVEL") {
            guard let level = Logger.Level(rawValue: raw.lowercased()) else {
                throw ConfigurationError("LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical (got '\(raw)').")
            }
            self.logLevel = level
        }
        if let cost = try int("SOS_BCRYPT_COST", range: 4...16) { self.bcryptCost = cost }
        if let ttl = try int("SOS_ACCESS_TOKEN_TTL", range: 30...86_400) { self.accessTokenLifetime = TimeInterval(ttl) }
        if let ttl = try int("SOS_REFRESH_TOKEN_TTL", range: 300...31_536_000) { self.refreshTokenLifetime = TimeInterval(ttl) }
        if let value = try int("SOS_LOGIN_ATTEMPTS_PER_MINUTE", range: 1...1_000_000) { self.loginAttemptsPerMinute = value }
        if let value = try int("SOS_LOGIN_FAILURES_PER_ACCOUNT", range: 1...1_000_000) { self.loginFailuresPerAccount = value }
        if let value = try int("SOS_REGISTRATIONS_PER_HOUR", range: 1...1_000_000) { self.registrationsPerHour = value }
        if let value = try int("SOS_MAX_BODY_BYTES", range: 1024...(64 << 20)) { self.maxBodyBytes = value }
        if let value = try int("SOS_DB_MAX_CONNECTIONS", range: 1...500) { self.databaseMaxConnections = value }
        if let value = try int("SOS_DB_ACQUIRE_TIMEOUT_MS", range: 50...60_000) { self.databaseTimeouts.acquire = .milliseconds(value) }
        if let value = try int("SOS_DB_STATEMENT_TIMEOUT_MS", range: 100...600_000) { self.databaseTimeouts.statement = .milliseconds(value) }
        if let value = try int("SOS_UPLOAD_QUOTA_MB", range: 1...1_000_000) { self.uploadQuotaBytes = value << 20 }
        if let value = try int("SOS_REMINDER_INTERVAL", range: 1...3600) { self.reminderInterval = .seconds(value) }
        if let value = try int("SOS_AUTH_CACHE_SECONDS", range: 0...60) { self.authCacheSeconds = TimeInterval(value) }
        if let value = try int("SOS_DOCTOR_SEARCH_CACHE_MS", range: 0...60_000) { self.doctorSearchCacheMilliseconds = value }
        if let value = try int("SOS_BOOKING_HOLD_MINUTES", range: 1...1440) { self.booking.onlineHold = TimeInterval(value * 60) }
        if let value = try int("SOS_CLINIC_CONFIRM_HOURS", range: 0...168) { self.booking.clinicConfirmBefore = TimeInterval(value * 3600) }
        if let value = try int("SOS_MAX_UNPAID_BOOKINGS", range: 1...100) { self.booking.maxUnpaidPerPatient = value }
        if let value = try int("SOS_HOLD_SWEEP_SECONDS", range: 1...3600) { self.holdSweepInterval = .seconds(value) }
        if let value = try int("SOS_DISPATCH_WAVE_SIZE", range: 1...100) { self.dispatch.waveSize = value }
        if let value = try int("SOS_DISPATCH_WAVE_SECONDS", range: 1...3600) { self.dispatch.waveDelay = TimeInterval(value) }
        if let value = try int("SOS_DISPATCH_VIDEO_AFTER_SECONDS", range: 1...86_400) { self.dispatch.videoFallbackAfter = TimeInterval(value) }
        if let value = try int("SOS_DISPATCH_NO_DOCTOR_AFTER_SECONDS", range: 1...86_400) { self.dispatch.noDoctorAfter = TimeInterval(value) }
        if let value = try int("SOS_DISPATCH_SWEEP_SECONDS", range: 1...3600) { self.dispatchSweepInterval = .seconds(value) }
        if let urls = values["SOS_STUN_URLS"] { self.stunURLs = Self.list(urls) }
        if let urls = values["SOS_TURN_URLS"] { self.turnURLs = Self.list(urls) }
        if let secret = string("SOS_TURN_SECRET") { self.turnSecret = secret }
        if let ttl = try int("SOS_TURN_TTL", range: 60...86_400) { self.turnTTL = TimeInterval(ttl) }
        if let bytes = try int("SOS_WS_MAX_MESSAGE_BYTES", range: 1024...(16 << 20)) { self.hub.maxMessageBytes = bytes }
        if let value = try int("SOS_MAX_CONNECTIONS", range: 1...1_000_000) { self.connections.maxConnections = value }
        if let value = try int("SOS_MAX_CONNECTIONS_PER_ADDRESS", range: 1...1_000_000) { self.connections.maxConnectionsPerAddress = value }
        if let value = try int("SOS_HEADER_TIMEOUT_SECONDS", range: 1...3600) { self.connections.requestHeadTimeout = TimeInterval(value) }
        if let value = try int("SOS_BODY_TIMEOUT_SECONDS", range: 1...3600) { self.connections.requestBodyTimeout = TimeInterval(value) }
        if let value = try int("SOS_MAX_PENDING_WEBSOCKETS", range: 1...1_000_000) { self.connections.maxPendingWebSockets = value }
        if let capacity = try int("SOS_WS_QUEUE", range: 8...100_000) { self.hub.outboundQueueCapacity = capacity }
        if let bytes = try int("SOS_WS_QUEUE_BYTES", range: 64 << 10...(1 << 30)) { self.hub.outboundQueueBytes = bytes }
        if let bytes = try int("SOS_WS_SEND_BUFFER_BYTES", range: 4096...(64 << 20)) { self.hub.socketSendBuffer = bytes }
        if let bytes = try int("SOS_WS_LOG_BYTES_PER_USER", range: 16 << 10...(64 << 20)) { self.hub.eventBytesPerUser = bytes }
        if let bytes = try int("SOS_WS_LOG_BYTES_TOTAL", range: 1 << 20...(8 << 30)) { self.hub.eventBytesTotal = bytes }
        if let seconds = try int("SOS_HUB_HEARTBEAT_SECONDS", range: 1...300) { self.hub.heartbeat = TimeInterval(seconds) }
        if let rate = try int("SOS_WS_RATE_PER_SECOND", range: 1...100_000) {
            self.hub.ratePerSecond = rate
            self.hub.rateBurst = rate * 2
        }
        func url(_ key: String) throws -> String? {
            guard let value = string(key) else { return nil }
            guard value.hasPrefix("https://") || value.hasPrefix("http://127.0.0.1") || value.hasPrefix("http://localhost") else {
                throw ConfigurationError("\(key) must be an https:// URL (plain http only for localhost) (got '\(value)').")
            }
            return value
        }
        if let sid = string("TWILIO_ACCOUNT_SID") { self.twilioAccountSid = sid }
        if let token = string("TWILIO_AUTH_TOKEN") { self.twilioAuthToken = token }
        if let from = string("TWILIO_FROM") { self.twilioFrom = from }
        if let from = string("TWILIO_WHATSAPP_FROM") { self.twilioWhatsAppFrom = from }
        if let base = try url("TWILIO_API_BASE") { self.twilioAPIBase = base }
        if let token = string("POSTMARK_SERVER_TOKEN") { self.postmarkServerToken = token }
        if let from = string("EMAIL_FROM") { self.emailFrom = from }
        if let base = try url("POSTMARK_API_BASE") { self.postmarkAPIBase = base }
        for provider in SocialProvider.allCases {
            let prefix = provider.rawValue.uppercased()
            guard let id = string("\(prefix)_CLIENT_ID") else { continue }
            guard let secret = string("\(prefix)_CLIENT_SECRET"), let redirect = try url("\(prefix)_REDIRECT_URI") else {
                throw ConfigurationError("\(prefix)_CLIENT_ID is set: also set \(prefix)_CLIENT_SECRET and \(prefix)_REDIRECT_URI (the callback URL registered with \(provider.displayName), e.g. https://clinic.example/api/v1/auth/\(provider.rawValue)/callback).")
            }
            let defaults = OAuthSettings.defaults(provider)
            self.oauth[provider] = OAuthSettings(
                clientId: id, clientSecret: secret, redirectURI: redirect,
                authorizeURL: try url("\(prefix)_AUTH_URL") ?? defaults.authorize, tokenURL: try url("\(prefix)_TOKEN_URL") ?? defaults.token,
                profileURL: try url("\(prefix)_PROFILE_URL") ?? defaults.profile, scope: string("\(prefix)_SCOPE") ?? defaults.scope
            )
        }
        if let ttl = try int("SOS_OTP_TTL", range: 60...3600) { self.otpLifetime = TimeInterval(ttl) }
        if let value = try int("SOS_OTP_PER_DESTINATION_PER_HOUR", range: 1...100_000) { self.otpPerDestinationPerHour = value }
        if let value = try int("SOS_OTP_PER_ADDRESS_PER_HOUR", range: 1...1_000_000) { self.otpPerAddressPerHour = value }
        if let value = try int("SOS_OUTBOX_INTERVAL_MS", range: 50...60_000) { self.outboxInterval = .milliseconds(value) }
        if let value = try int("SOS_OUTBOX_RETRY_BASE", range: 1...3600) { self.outboxRetryBase = TimeInterval(value) }
        if let key = string("STRIPE_SECRET_KEY") { self.stripeSecretKey = key }
        if let secret = string("STRIPE_WEBHOOK_SECRET") { self.stripeWebhookSecret = secret }
        if let key = string("STRIPE_PUBLISHABLE_KEY") {
            guard key.hasPrefix("pk_") else {
                throw ConfigurationError("STRIPE_PUBLISHABLE_KEY must be a Stripe publishable key (pk_live_… or pk_test_…); never put the secret key here.")
            }
            self.stripePublishableKey = key
        }
        if let base = string("STRIPE_API_BASE") {
            guard base.hasPrefix("https://") || base.hasPrefix("http://127.0.0.1") || base.hasPrefix("http://localhost") else {
                throw ConfigurationError("STRIPE_API_BASE must be an https:// URL (plain http only for localhost) (got '\(base)').")
            }
            self.stripeAPIBase = base
        }
        if let code = string("SOS_REPORTING_CURRENCY") {
            do { self.reportingCurrency = try Currency(code) } catch {
                throw ConfigurationError("SOS_REPORTING_CURRENCY must be an ISO 4217 code such as USD or EUR (got '\(code)').")
            }
        }
        if let raw = string("SOS_ALLOW_DEVELOPMENT_ON_NETWORK") {
            guard let flag = Self.bool(raw) else {
                throw ConfigurationError("SOS_ALLOW_DEVELOPMENT_ON_NETWORK must be true or false (got '\(raw)').")
            }
            self.allowDevelopmentOnNetwork = flag
        }
        if let raw = string("SOS_TRUST_FORWARDED_FOR") {
            guard let flag = Self.bool(raw) else {
                throw ConfigurationError("SOS_TRUST_FORWARDED_FOR must be true or false (got '\(raw)').")
            }
            self.trustForwardedFor = flag
        }
    }

    /// Checks combinations that cannot work; production needs a strong JWT secret and both TLS files or none.
    public func validate() throws {
        if let secret = self.jwtSecret, secret.utf8.count < 32 {
            throw ConfigurationError("JWT_SECRET must be at least 32 bytes long (it has \(secret.utf8.count)). Generate one with: openssl rand -base64 48")
        }
        if self.mode == .production && self.jwtSecret == nil {
            throw ConfigurationError("JWT_SECRET is required in production (SOS_ENV=production). Set it to at least 32 random bytes, e.g. openssl rand -base64 48")
        }
        if (self.tlsCertificatePath == nil) != (self.tlsKeyPath == nil) {
            throw ConfigurationError("Set both SOS_TLS_CERT and SOS_TLS_KEY to enable TLS, or neither.")
        }
        switch self.mode {
        case .development:
            if !Self.isLoopback(self.host) && !self.allowDevelopmentOnNetwork {
                throw ConfigurationError("Development mode (known admin password, sign-in codes in /api/v1/dev/outbox) listens on loopback only; SOS_HOST is \(self.host). Use SOS_ENV=production, or set SOS_ALLOW_DEVELOPMENT_ON_NETWORK=true for a private test network.")
            }
        case .production:
            if self.bcryptCost < 10 {
                throw ConfigurationError("SOS_BCRYPT_COST is \(self.bcryptCost), a development setting; production needs at least 10 (default 11).")
            }
            if self.corsOrigins.contains("*") {
                throw ConfigurationError("CORS_ORIGINS=* lets any website call this API from its users' browsers; list the allowed origins in production.")
            }
            if self.allowDevelopmentOnNetwork {
                throw ConfigurationError("SOS_ALLOW_DEVELOPMENT_ON_NETWORK is a development setting; remove it in production.")
            }
        }
    }

    /// True for addresses only this machine can reach.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The SQLite file used when no `DATABASE_URL` is set.
    public var sqlitePath: String { (self.dataDirectory as NSString).appendingPathComponent("sos.sqlite") }

    var authSettings: AuthService.Settings {
        AuthService.Settings(
            accessTokenLifetime: self.accessTokenLifetime,
            refreshTokenLifetime: self.refreshTokenLifetime,
            loginPerAddress: RateLimit(count: self.loginAttemptsPerMinute, per: 60),
            loginFailuresPerAccount: RateLimit(count: self.loginFailuresPerAccount, per: 15 * 60),
            registerPerAddress: RateLimit(count: self.registrationsPerHour, per: 3600),
            registerPerAccount: RateLimit(count: 5, per: 3600)
        )
    }

    var otpSettings: OTPService.Settings {
        OTPService.Settings(
            lifetime: self.otpLifetime, maxWrongTries: 5, perDestination: RateLimit(count: self.otpPerDestinationPerHour, per: 3600),
            perAddress: RateLimit(count: self.otpPerAddressPerHour, per: 3600), verifyPerAddress: RateLimit(count: max(60, self.otpPerAddressPerHour * 2), per: 3600)
        )
    }

    static func list(_ raw: String) -> [String] {
        raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func bool(_ raw: String) -> Bool? {
        switch raw.lowercased() {
        case "1", "true", "yes", "on": true
        case "0", "false", "no", "off": false
        default: nil
        }
    }
}

/// A configuration value the server cannot start with; the message says which and how to fix it.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
