import ArgumentParser
import Foundation
import SOSServer

#if canImport(Glibc)
import Glibc
#endif

/// `sos-server`: the SOS Tourist Doctor server and its maintenance commands.
@main
struct SOSServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sos-server",
        abstract: "SOS Tourist Doctor: REST API and real-time hub in one process.",
        subcommands: [Serve.self, Migrate.self, CreateAdmin.self, SeedDemo.self],
        defaultSubcommand: Serve.self
    )
}

/// Flags for every environment variable; a flag wins over the variable.
struct ConfigOptions: ParsableArguments {
    @Option(help: "development or production (SOS_ENV).") var env: String?
    @Option(help: "Address to listen on (SOS_HOST).") var host: String?
    @Option(help: "Port to listen on (SOS_PORT).") var port: String?
    @Option(name: .customLong("database-url"), help: "postgres://… ; unset means embedded SQLite (DATABASE_URL).") var databaseURL: String?
    @Option(name: .customLong("db-schema"), help: "PostgreSQL schema (SOS_DB_SCHEMA).") var dbSchema: String?
    @Option(name: .customLong("data-dir"), help: "Directory for SQLite, secrets and uploads (SOS_DATA_DIR).") var dataDir: String?
    @Option(name: .customLong("jwt-secret"), help: "HS256 secret, at least 32 bytes (JWT_SECRET).") var jwtSecret: String?
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain; enables HTTPS/WSS (SOS_TLS_CERT).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key (SOS_TLS_KEY).") var tlsKey: String?
    @Option(name: .customLong("cors-origins"), help: "Comma-separated allowed origins, or * (CORS_ORIGINS).") var corsOrigins: String?
    @Option(name: .customLong("assets-dir"), help: "Directory holding protocol/ and web-demo/ (SOS_ASSETS_DIR).") var assetsDir: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (LOG_LEVEL).") var logLevel: String?
    // Providers. Secrets given as flags are visible to other local users in the process list: prefer the variables.
    @Option(name: .customLong("stripe-secret-key"), help: "Stripe secret key; enables the Stripe provider (STRIPE_SECRET_KEY).") var stripeSecretKey: String?
    @Option(name: .customLong("stripe-publishable-key"), help: "Stripe publishable key for the browser's card form (STRIPE_PUBLISHABLE_KEY).") var stripePublishableKey: String?
    @Option(name: .customLong("stripe-webhook-secret"), help: "Stripe webhook signing secret (STRIPE_WEBHOOK_SECRET).") var stripeWebhookSecret: String?
    @Option(name: .customLong("stripe-api-base"), help: "Stripe API base URL (STRIPE_API_BASE).") var stripeAPIBase: String?
    @Option(name: .customLong("twilio-account-sid"), help: "Twilio account SID, for SMS and WhatsApp (TWILIO_ACCOUNT_SID).") var twilioAccountSid: String?
    @Option(name: .customLong("twilio-auth-token"), help: "Twilio auth token (TWILIO_AUTH_TOKEN).") var twilioAuthToken: String?
    @Option(name: .customLong("twilio-from"), help: "Twilio SMS sender number (TWILIO_FROM).") var twilioFrom: String?
    @Option(name: .customLong("twilio-whatsapp-from"), help: "Twilio WhatsApp sender, whatsapp:+… (TWILIO_WHATSAPP_FROM).") var twilioWhatsAppFrom: String?
    @Option(name: .customLong("twilio-api-base"), help: "Twilio API base URL (TWILIO_API_BASE).") var twilioAPIBase: String?
    @Option(name: .customLong("postmark-server-token"), help: "Postmark server token, for email (POSTMARK_SERVER_TOKEN).") var postmarkServerToken: String?
    @Option(name: .customLong("email-from"), help: "Sender address, a Postmark sender signature (EMAIL_FROM).") var emailFrom: String?
    @Option(name: .customLong("postmark-api-base"), help: "Postmark API base URL (POSTMARK_API_BASE).") var postmarkAPIBase: String?
    @Option(name: .customLong("google-client-id"), help: "Google OAuth client id (GOOGLE_CLIENT_ID).") var googleClientId: String?
    @Option(name: .customLong("google-client-secret"), help: "Google OAuth client secret (GOOGLE_CLIENT_SECRET).") var googleClientSecret: String?
    @Option(name: .customLong("google-redirect-uri"), help: "Google OAuth callback URL (GOOGLE_REDIRECT_URI).") var googleRedirectURI: String?
    @Option(name: .customLong("facebook-client-id"), help: "Facebook app id (FACEBOOK_CLIENT_ID).") var facebookClientId: String?
    @Option(name: .customLong("facebook-client-secret"), help: "Facebook app secret (FACEBOOK_CLIENT_SECRET).") var facebookClientSecret: String?
    @Option(name: .customLong("facebook-redirect-uri"), help: "Facebook OAuth callback URL (FACEBOOK_REDIRECT_URI).") var facebookRedirectURI: String?
    @Option(name: .customLong("instagram-client-id"), help: "Instagram app id (INSTAGRAM_CLIENT_ID).") var instagramClientId: String?
    @Option(name: .customLong("instagram-client-secret"), help: "Instagram app secret (INSTAGRAM_CLIENT_SECRET).") var instagramClientSecret: String?
    @Option(name: .customLong("instagram-redirect-uri"), help: "Instagram OAuth callback URL (INSTAGRAM_REDIRECT_URI).") var instagramRedirectURI: String?

    /// The environment overlaid with the flags that were given.
    func configuration() throws -> ServerConfiguration {
        var values = ProcessInfo.processInfo.environment
        let flags: [(String, String?)] = [
            ("SOS_ENV", self.env), ("SOS_HOST", self.host), ("SOS_PORT", self.port), ("DATABASE_URL", self.databaseURL),
            ("SOS_DB_SCHEMA", self.dbSchema), ("SOS_DATA_DIR", self.dataDir), ("JWT_SECRET", self.jwtSecret),
            ("SOS_TLS_CERT", self.tlsCert), ("SOS_TLS_KEY", self.tlsKey), ("CORS_ORIGINS", self.corsOrigins),
            ("SOS_ASSETS_DIR", self.assetsDir), ("LOG_LEVEL", self.logLevel),
            ("STRIPE_SECRET_KEY", self.stripeSecretKey), ("STRIPE_WEBHOOK_SECRET", self.stripeWebhookSecret),
            ("STRIPE_PUBLISHABLE_KEY", self.stripePublishableKey), ("STRIPE_API_BASE", self.stripeAPIBase),
            ("TWILIO_ACCOUNT_SID", self.twilioAccountSid), ("TWILIO_AUTH_TOKEN", self.twilioAuthToken), ("TWILIO_FROM", self.twilioFrom),
            ("TWILIO_WHATSAPP_FROM", self.twilioWhatsAppFrom), ("TWILIO_API_BASE", self.twilioAPIBase),
            ("POSTMARK_SERVER_TOKEN", self.postmarkServerToken), ("EMAIL_FROM", self.emailFrom), ("POSTMARK_API_BASE", self.postmarkAPIBase),
            ("GOOGLE_CLIENT_ID", self.googleClientId), ("GOOGLE_CLIENT_SECRET", self.googleClientSecret), ("GOOGLE_REDIRECT_URI", self.googleRedirectURI),
            ("FACEBOOK_CLIENT_ID", self.facebookClientId), ("FACEBOOK_CLIENT_SECRET", self.facebookClientSecret),
            ("FACEBOOK_REDIRECT_URI", self.facebookRedirectURI), ("INSTAGRAM_CLIENT_ID", self.instagramClientId),
            ("INSTAGRAM_CLIENT_SECRET", self.instagramClientSecret), ("INSTAGRAM_REDIRECT_URI", self.instagramRedirectURI),
        ]
        for (key, value) in flags {
            if let value { values[key] = value }
        }
        let configuration = try ServerConfiguration.fromEnvironment(values)
        try configuration.validate()
        return configuration
    }
}

/// Fails with the configuration message and exit code 2 instead of a stack trace.
func withConfiguration(_ options: ConfigOptions, _ body: (ServerConfiguration) async throws -> Void) async throws {
    let configuration: ServerConfiguration
    do {
        configuration = try options.configuration()
    } catch let error as ConfigurationError {
        throw ValidationError(error.description)
    }
    try await body(configuration)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the default command).")
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        Self.boundMallocArenas()
        try await withConfiguration(self.options) { try await ServerCommands.serve($0) }
    }

    /// glibc gives threads that contend for the heap arenas of their own (up to eight per core) and keeps what is
    /// freed in each: a long-running server's RSS then climbs in steps far above its working set (the 30-minute soak
    /// grew 13 % after its warm-up, then stayed there). Two arenas, one per core of the machine it is sized for, keep it
    /// near the working set. `MALLOC_ARENA_MAX`, when set, wins.
    static func boundMallocArenas() {
        #if canImport(Glibc)
        // mallopt is in <malloc.h>, which the Glibc module does not export: looked up by name (RTLD_DEFAULT), called
        // with C's convention; M_ARENA_MAX is -8 there
        guard getenv("MALLOC_ARENA_MAX") == nil, let symbol = dlsym(nil, "mallopt") else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        _ = unsafeBitCast(symbol, to: Mallopt.self)(-8, 2)
        #endif
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        try await withConfiguration(self.options) { try await ServerCommands.migrate($0) }
    }
}

struct CreateAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create-admin", abstract: "Create an administrator (or reset one's password).")
    @OptionGroup var options: ConfigOptions
    @Option(help: "Admin email.") var email: String
    @Option(help: "Admin password (at least 8 characters).") var password: String
    @Option(help: "Admin display name.") var name: String = "Administrator"

    func run() async throws {
        try await withConfiguration(self.options) {
            try await ServerCommands.createAdmin($0, email: self.email, password: self.password, name: self.name)
        }
    }
}

struct SeedDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "seed-demo", abstract: "Fill the database with demo data.")
    @OptionGroup var options: ConfigOptions
    @Option(help: "Multiplier for the amount of data (1 = a handful of accounts).") var scale: Int = 1
    @Option(help: "Doctors (default 5 × scale).") var doctors: Int?
    @Option(help: "Patients (default 20 × scale).") var patients: Int?
    @Option(name: .customLong("appointments-per-doctor"), help: "Appointments per new doctor (default 50).") var appointmentsPerDoctor: Int?

    func run() async throws {
        guard self.scale >= 1 else { throw ValidationError("--scale must be at least 1.") }
        for (name, value) in [("doctors", self.doctors), ("patients", self.patients), ("appointments-per-doctor", self.appointmentsPerDoctor)] {
            if let value, value < 1 { throw ValidationError("--\(name) must be at least 1.") }
        }
        try await withConfiguration(self.options) {
            try await ServerCommands.seedDemo($0, scale: self.scale, doctors: self.doctors, patients: self.patients, appointmentsPerDoctor: self.appointmentsPerDoctor)
        }
    }
}
