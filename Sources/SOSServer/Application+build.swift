import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SOSDomain
import SOSRealtime
import SOSStorage
import ServiceLifecycle

/// The services and stores one server process runs on, built once from the configuration.
public struct AppServices: Sendable {
    public let configuration: ServerConfiguration
    public let database: Database
    public let users: any UserRepository
    public let tokens: any TokenStore
    public let auth: AuthService
    public let otp: OTPService
    public let social: SocialSignInService
    let outbox: OutboxDispatcher
    public let userService: UserService
    public let doctors: DoctorService
    public let availabilities: AvailabilityService
    public let appointments: AppointmentService
    public let records: MedicalRecordService
    public let notifications: NotificationService
    public let pictures: ProfilePictureService
    public let calendar: CalendarService
    public let payments: PaymentService
    public let dashboard: DashboardService
    public let chat: ChatService
    public let video: VideoService
    public let sos: SOSService
    public let hub: Hub
    /// The PostgreSQL broker when running on PostgreSQL (a service to run); nil with the in-memory broker.
    let postgresBroker: PostgresBroker?
    public let notificationStore: any NotificationRepository
    /// The same store seen as the outbox (its backlog is in `/metrics`).
    let outboxStore: any OutboxRepository
    let doctorStore: any DoctorRepository
    let availabilityStore: any AvailabilityRepository
    let appointmentStore: any AppointmentRepository
    let passwordHasher: any PasswordHasher
    public let events: any EventPublisher
    let metrics: PrometheusMetrics
    let logger: Logger
    /// Opened by `prepare()`: the background jobs wait for it, so they never touch tables before the migrations.
    let prepared = StartupGate()

    /// Opens the database and wires repositories and services (no network, no migrations yet).
    /// `presence` replaces the hub's for SOS matching (router tests, which have no sockets, say who is online).
    public static func build(_ configuration: ServerConfiguration, logger: Logger, events extraEvents: any EventPublisher = NoEventPublisher(),
                             presence: (any PresenceDirectory)? = nil) async throws -> AppServices {
        let events = EventRelay([extraEvents])
        try configuration.validate()
        let database: Database
        if let url = configuration.databaseURL {
            database = try Database.postgres(
                url: url, searchPath: configuration.databaseSchema,
                maximumConnections: configuration.databaseMaxConnections, timeouts: configuration.databaseTimeouts, logger: logger
            )
        } else {
            database = try await Database.sqlite(path: configuration.sqlitePath, logger: logger)
        }
        let secrets = SystemSecrets()
        let jwtSecret = try configuration.jwtSecret
            ?? SecretFile.loadOrCreate(at: (configuration.dataDirectory as NSString).appendingPathComponent("jwt_secret"), secrets: secrets)
        let codec = await JWTAccessTokenCodec(secret: jwtSecret, secrets: secrets)
        let hasher = BcryptPasswordHasher(cost: configuration.bcryptCost)
        let cache = PrincipalCache(ttl: configuration.authCacheSeconds)
        let users = CacheInvalidatingUserRepository(SQLUserRepository(database: database), cache: cache, events: events)
        let tokens = CacheInvalidatingTokenStore(SQLTokenStore(database: database), cache: cache, events: events)
        let auth = AuthService(
            users: users, tokens: tokens, hasher: hasher, codec: codec, secrets: secrets,
            limiter: RateLimiter(), cache: cache, settings: configuration.authSettings
        )
        let signInStore = SQLSignInRepository(database: database)
        let keyedSigner = KeyedSigner(jwtSecret: jwtSecret)
        let claims = AccountClaims(users: users, tokens: tokens, accounts: signInStore)
        let otp = OTPService(
            codes: signInStore, users: users, claims: claims, auth: auth, hasher: keyedSigner, limiter: RateLimiter(), settings: configuration.otpSettings,
            now: configuration.clock
        )
        let social = SocialSignInService(
            providers: configuration.oauth.reduce(into: [:]) { providers, entry in
                providers[entry.key] = HTTPOAuthProvider(provider: entry.key, settings: entry.value, client: HTTPClient.shared)
            },
            accounts: signInStore, users: users, claims: claims, auth: auth, signer: keyedSigner, stateLifetime: configuration.oauthStateLifetime,
            now: configuration.clock
        )
        let doctorStore = SQLDoctorRepository(database: database, searchLifetime: .milliseconds(configuration.doctorSearchCacheMilliseconds))
        let availabilityStore = SQLAvailabilityRepository(database: database)
        let appointmentStore = SQLAppointmentRepository(database: database)
        let notificationStore = SQLNotificationRepository(database: database)
        let files = LocalFileStore(root: (configuration.dataDirectory as NSString).appendingPathComponent("uploads"))
        let quota = UploadQuota(uploads: SQLUploadRegistry(database: database), bytes: configuration.uploadQuotaBytes)
        let pictures = ProfilePictureService(users: users, files: files, quota: quota)
        let notifications = NotificationService(
            notifications: notificationStore, users: users, appointments: appointmentStore, doctors: doctorStore, events: events
        )
        var booking = configuration.booking
        booking.onlinePayments = configuration.stripeSecretKey != nil
        let appointments = AppointmentService(
            appointments: appointmentStore, availabilities: availabilityStore, doctors: doctorStore, users: users,
            notifications: notifications, events: events, rules: booking, now: configuration.clock
        )
        let stripe = configuration.stripeSecretKey.map {
            StripePaymentProvider(secretKey: $0, apiBase: configuration.stripeAPIBase, client: HTTPClient.shared)
        }
        let chatStore = SQLChatRepository(database: database)
        // step: one rule and one cache for who is related to whom, shared by chat and the hub's presence
        let relationships = Relationships(repository: chatStore)
        let chat = ChatService(chats: chatStore, users: users, relationships: relationships, events: events)
        let video = VideoService(
            videos: SQLVideoRepository(database: database), appointments: appointmentStore, users: users, events: events, secrets: secrets
        )
        let presenceRelay = PresenceRelay(presence)
        let sos = SOSService(
            dispatch: SQLDispatchRepository(database: database), doctors: doctorStore, users: users, appointments: appointments,
            presence: presenceRelay, events: events, rules: configuration.dispatch, now: configuration.clock
        )
        let postgresBroker = database.kind == .postgres ? PostgresBroker(
            // step: one channel per schema, so deployments sharing a database never hear each other
            database: database, channel: String(("sos_hub" + (configuration.databaseSchema.map { "_" + $0 } ?? "")).prefix(63)),
            // step: the node's own heartbeat is published at least every `heartbeat` seconds and must come back to its
            // listener; two heartbeats without it (at least 10 s) mean the listening connection went deaf
            deafAfter: .seconds(max(10, 2 * configuration.hub.heartbeat)), logger: logger
        ) : nil
        var hubConfiguration = configuration.hub
        hubConfiguration.maxPendingSessions = configuration.connections.maxPendingWebSockets
        let hub = Hub(
            configuration: hubConfiguration,
            dependencies: HubDependencies(
                auth: auth, chat: chat, video: video, appointments: appointments, sos: sos, relationships: relationships,
                render: EventRenderer.render
            ),
            broker: postgresBroker ?? InMemoryBroker(), logger: logger, eventLoopGroup: MultiThreadedEventLoopGroup.singleton
        )
        events.add(hub)
        presenceRelay.attach(hub)
        let outbox = OutboxDispatcher(
            outbox: notificationStore, senders: Self.messageSenders(configuration), retryBase: configuration.outboxRetryBase,
            redact: configuration.mode == .production,
            now: configuration.clock
        )
        return AppServices(
            configuration: configuration,
            database: database,
            users: users,
            tokens: tokens,
            auth: auth,
            otp: otp,
            social: social,
            outbox: outbox,
            userService: UserService(users: users, tokens: tokens, hasher: hasher, pictures: pictures),
            doctors: DoctorService(doctors: doctorStore, users: users, appointments: appointmentStore, pictures: pictures),
            availabilities: AvailabilityService(availabilities: availabilityStore, appointments: appointmentStore, doctors: doctorStore),
            appointments: appointments,
            records: MedicalRecordService(
                records: SQLMedicalRecordRepository(database: database), appointments: appointmentStore, users: users, files: files, quota: quota,
                events: events
            ),
            notifications: notifications,
            pictures: pictures,
            calendar: CalendarService(
                tokens: SQLCalendarTokenRepository(database: database), users: users, appointments: appointmentStore, secrets: secrets
            ),
            payments: PaymentService(
                payments: SQLPaymentRepository(database: database), appointmentStore: appointmentStore, appointments: appointments, users: users,
                notifications: notifications, notificationStore: notificationStore, events: events, stripe: stripe, logger: logger,
                now: configuration.clock
            ),
            dashboard: DashboardService(dashboard: SQLDashboardRepository(database: database)),
            chat: chat,
            video: video,
            sos: sos,
            hub: hub,
            postgresBroker: postgresBroker,
            notificationStore: notificationStore,
            outboxStore: notificationStore,
            doctorStore: doctorStore,
            availabilityStore: availabilityStore,
            appointmentStore: appointmentStore,
            passwordHasher: hasher,
            events: events,
            metrics: PrometheusMetrics(),
            logger: logger
        )
    }

    /// The provider for each outside channel: Twilio (SMS, WhatsApp) and Postmark (email) when configured; in
    /// development, channels without a provider count messages as sent once they are in the dev outbox.
    static func messageSenders(_ configuration: ServerConfiguration) -> [OutboxMessage.Channel: any MessageSender] {
        var senders: [OutboxMessage.Channel: any MessageSender] = [:]
        if let sid = configuration.twilioAccountSid, let token = configuration.twilioAuthToken {
            if let from = configuration.twilioFrom {
                senders[.sms] = TwilioSender(accountSid: sid, authToken: token, from: from, whatsapp: false, apiBase: configuration.twilioAPIBase, client: .shared)
            }
            if let from = configuration.twilioWhatsAppFrom {
                senders[.whatsapp] = TwilioSender(accountSid: sid, authToken: token, from: from, whatsapp: true, apiBase: configuration.twilioAPIBase, client: .shared)
            }
        }
        if let token = configuration.postmarkServerToken, let from = configuration.emailFrom {
            senders[.email] = PostmarkSender(serverToken: token, from: from, apiBase: configuration.postmarkAPIBase, client: .shared)
        }
        if configuration.mode == .development {
            for channel in OutboxMessage.Channel.allCases where senders[channel] == nil { senders[channel] = DevelopmentOutboxSender() }
        }
        return senders
    }

    /// Applies pending migrations, then in development creates the default admin when there is no admin.
    public func prepare() async throws {
        try await Migrator(database: self.database, logger: self.logger).migrate()
        if self.configuration.mode == .production {
            // step: a database that still has the development admin with its published password would hand it to anyone
            if let found = try await self.users.credentials(email: "admin@test.com"), found.user.status != .blocked, let hash = found.passwordHash,
               try await self.passwordHasher.verify("Admin123!", hash: hash) {
                throw ConfigurationError("This database still has the development admin admin@test.com with the password Admin123!. Change that password (sos-server create-admin --email admin@test.com --password …) or block the account before running in production.")
            }
        }
        if self.configuration.mode == .development {
            let admins = try await self.users.count(role: .admin) + self.users.count(role: .superadmin)
            if admins == 0 {
                try await self.userService.ensureAdmin(email: "admin@test.com", password: "Admin123!", name: "Administrator")
                self.logger.notice("Development mode: created admin admin@test.com with password Admin123!")
            }
        }
        self.prepared.open()
    }
}

/// Builds the whole server: database, services, REST router, TLS when configured.
public func buildApplication(_ configuration: ServerConfiguration) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "sos-server")
    logger.logLevel = configuration.logLevel
    let services = try await AppServices.build(configuration, logger: logger)
    return try buildApplication(services)
}

/// Builds the server around already-built services (tests pass their own, and may add routes).
public func buildApplication(
    _ services: AppServices,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in },
    extraRoutes: (Router<AppRequestContext>) -> Void = { _ in }
) throws -> Application<RouterResponder<AppRequestContext>> {
    let configuration = services.configuration
    let router = buildRouter(services, extraRoutes: extraRoutes)
    let webSockets = WebSocketEndpoints(hub: services.hub, development: configuration.mode == .development)
    var app = Application(
        router: router,
        server: try serverBuilder(configuration, webSockets: webSockets, logger: services.logger),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "sos-server"),
        services: [
            services.database,
            services.postgresBroker.map { $0 as any Service },
            services.hub,
        ].compactMap { $0 } + services.backgroundJobs(),
        onServerRunning: onServerRunning,
        logger: services.logger
    )
    app.beforeServerStarts {
        try await services.prepare()
    }
    return app
}

/// The process's service group: the application, then the hub's drain, so that on SIGTERM/SIGINT open sockets
/// close with 1001 (after in-flight commands) before the HTTP server stops.
public func serviceGroup(_ app: some ApplicationProtocol & Service, _ services: AppServices) -> ServiceGroup {
    ServiceGroup(configuration: .init(
        services: [app, services.hub.drainService], gracefulShutdownSignals: [.sigterm, .sigint], logger: services.logger
    ))
}

/// HTTP/1.1 with the WebSocket upgrade on the same port (`HubUpgradeChannel`: upgraded sockets are served by channel
/// handlers, no task each), wrapped in TLS when `SOS_TLS_CERT` and `SOS_TLS_KEY` are set, behind the connection caps
/// and slow-client timeouts (`ConnectionLimits`).
func serverBuilder(_ configuration: ServerConfiguration, webSockets: WebSocketEndpoints, logger: Logger) throws -> HTTPServerBuilder {
    let limits = configuration.connections
    let counter = ConnectionCounter(limits: limits)
    let http1 = HTTP1Channel.Configuration(
        additionalChannelHandlers: [ConnectionGuard(limits: limits, logger: logger)],
        idleTimeout: .milliseconds(Int64(limits.requestHeadTimeout * 1000))
    )
    let tls = try tlsConfiguration(configuration)
    return HTTPServerBuilder { responder in
        let base = HubUpgradeChannel(responder: responder, http1: http1, endpoints: webSockets)
        guard let tls else { return GuardedChildChannel(base: base, counter: counter, logger: logger) }
        return GuardedChildChannel(base: try TLSChannel(base, tlsConfiguration: tls), counter: counter, logger: logger)
    }
}

/// The TLS server configuration from `SOS_TLS_CERT` and `SOS_TLS_KEY`, or nil for plain HTTP.
func tlsConfiguration(_ configuration: ServerConfiguration) throws -> TLSConfiguration? {
    guard let certificatePath = configuration.tlsCertificatePath, let keyPath = configuration.tlsKeyPath else { return nil }
    do {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        tls.applicationProtocols = ["http/1.1"]
        return tls
    } catch {
        throw ConfigurationError("Cannot load TLS certificate \(certificatePath) or key \(keyPath): \(error). Both must be PEM files.")
    }
}

/// Builds the REST router: middleware, every controller, and 405 answers for wrong methods.
func buildRouter(_ services: AppServices, extraRoutes: (Router<AppRequestContext>) -> Void = { _ in }) -> Router<AppRequestContext> {
    let configuration = services.configuration
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: MetricsMiddleware(metrics: services.metrics))
    if !configuration.corsOrigins.isEmpty {
        router.add(middleware: CORSPolicyMiddleware(allowedOrigins: configuration.corsOrigins))
    }
    router.add(middleware: ErrorMiddleware(maxBodyBytes: configuration.maxBodyBytes))
    router.add(middleware: WebClientMiddleware(
        assetsDirectory: configuration.assetsDirectory, policy: ContentSecurityPolicy(stripe: configuration.stripePublishableKey != nil && configuration.stripeSecretKey != nil),
        logger: services.logger
    ))

    OperationsController(
        database: services.database, metrics: services.metrics,
        gauges: OperationalGauges(hub: services.hub, database: services.database, outbox: services.outboxStore),
        openAPI: loadOpenAPI(configuration)
    ).addRoutes(to: router)

    let api = router.group("api/v1")
    ClientConfigController(configuration, channels: Array(AppServices.messageSenders(configuration).keys)).addRoutes(to: api)
    let authController = AuthController(
        auth: services.auth, users: services.userService, otp: services.otp, social: services.social,
        otpLifetimeMinutes: Int((configuration.otpLifetime / 60).rounded(.up)), trustForwardedFor: configuration.trustForwardedFor
    )
    authController.addPublicRoutes(to: api.group("auth"))

    let authenticated = api.group().add(middleware: AuthenticationMiddleware(auth: services.auth))
        .group(context: AuthenticatedContext.self)
    authController.addAuthenticatedRoutes(to: authenticated.group("auth"))
    UserController(users: services.userService).addRoutes(to: authenticated.group("users"))
    DoctorController(doctors: services.doctors).addRoutes(to: authenticated.group("doctors"))
    AvailabilityController(availabilities: services.availabilities).addRoutes(to: authenticated.group("availabilities"))
    AppointmentController(appointments: services.appointments).addRoutes(to: authenticated.group("appointments"))
    let sos = SOSController(sos: services.sos)
    sos.addRoutes(to: authenticated.group("sos"))
    sos.addOnCallRoutes(to: authenticated.group("doctors"))
    MedicalRecordController(records: services.records).addRoutes(to: authenticated.group("medical-records"))
    NotificationController(notifications: services.notifications).addRoutes(to: authenticated.group("notifications"))
    let uploads = UploadController(pictures: services.pictures)
    uploads.addRoutes(to: authenticated.group("upload"))
    uploads.addPublicRoutes(to: router)
    let payments = PaymentController(payments: services.payments, webhook: configuration.stripeWebhookSecret.map { StripeWebhook(secret: $0) })
    payments.addRoutes(to: authenticated.group("payments"))
    payments.addPublicRoutes(to: api.group("payments"))
    DashboardController(dashboard: services.dashboard, reportingCurrency: configuration.reportingCurrency)
        .addRoutes(to: authenticated.group("admin/dashboard"))
    ChatController(chat: services.chat).addRoutes(to: authenticated.group("chat"))
    VideoController(
        video: services.video, stun: configuration.stunURLs, turn: configuration.turnURLs, turnSecret: configuration.turnSecret,
        turnTTL: configuration.turnTTL
    ).addRoutes(to: authenticated.group("video-consultations"))
    api.get("ws") { _, _ -> Response in
        throw APIError(.upgradeRequired, "Upgrade required", "GET /api/v1/ws is a WebSocket endpoint; connect with a WebSocket client (Upgrade: websocket).",
                       headers: [.upgrade: "websocket"])
    }
    let calendar = CalendarController(calendar: services.calendar)
    calendar.addRoutes(to: authenticated.group("calendar"))
    calendar.addPublicRoutes(to: api.group("calendar"))
    if configuration.mode == .development {
        DevController(notifications: services.notificationStore, seedDemo: { try await DemoSeeder(services: services).seed(scale: 1) })
            .addRoutes(to: authenticated.group("dev"))
    }

    extraRoutes(router)
    MethodNotAllowed.register(on: router)
    return router
}

/// Reads `protocol/openapi.yaml` from the assets directory, if it is there.
func loadOpenAPI(_ configuration: ServerConfiguration) -> String? {
    let path = (configuration.assetsDirectory as NSString).appendingPathComponent("protocol/openapi.yaml")
    return FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) }
}
