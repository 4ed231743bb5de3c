import Foundation
import SOSDomain

/// What the hub needs from the domain, and how to render domain objects as the REST API shows them.
public struct HubDependencies: Sendable {
    public var auth: AuthService
    public var chat: ChatService
    public var video: VideoService
    public var appointments: AppointmentService
    /// SOS dispatch: `sos.accept`, `sos.decline`, `sos.position`.
    public var sos: SOSService
    /// Who is related to whom (the same rule and cache as chat's): whose presence a user hears.
    public var relationships: Relationships
    /// Renders an event's subject as JSON text (the REST shapes); nil for subjects not sent to clients.
    public var render: @Sendable (EventSubject) -> String?

    public init(auth: AuthService, chat: ChatService, video: VideoService, appointments: AppointmentService, sos: SOSService,
                relationships: Relationships, render: @escaping @Sendable (EventSubject) -> String?) {
        self.auth = auth
        self.chat = chat
        self.video = video
        self.appointments = appointments
        self.sos = sos
        self.relationships = relationships
        self.render = render
    }
}

/// Limits and timings of the hub.
public struct HubConfiguration: Sendable {
    public var maxMessageBytes = 64 * 1024
    public var outboundQueueCapacity = 512
    /// Bytes queued per socket at most (`SOS_WS_QUEUE_BYTES`); a consumer behind by more is closed with 4008.
    public var outboundQueueBytes = 4 << 20
    /// Bytes of events kept for `resume` per user (`SOS_WS_LOG_BYTES_PER_USER`) and on the whole node (`SOS_WS_LOG_BYTES_TOTAL`).
    public var eventBytesPerUser = 256 << 10
    public var eventBytesTotal = 64 << 20
    public var authTimeout: TimeInterval = 10
    public var offlineGrace: TimeInterval = 3
    public var rateBurst = 60
    public var ratePerSecond = 30
    public var retention: TimeInterval = 600
    public var eventsPerUser = 256
    /// How often a node announces itself to the others (`SOS_HUB_HEARTBEAT_SECONDS`); a node silent for three of
    /// these is considered gone and its users' presence is withdrawn.
    public var heartbeat: TimeInterval = 15
    /// How often the server pings each socket (no pong by the next ping: closed with 1001).
    public var pingInterval: TimeInterval = 30
    /// How long a close handshake may take before the socket is dropped.
    public var closeTimeout: TimeInterval = 3
    /// The kernel send buffer of each upgraded socket (`SOS_WS_SEND_BUFFER_BYTES`); nil: the kernel's autotuning,
    /// which on Linux may grow it to `net.ipv4.tcp_wmem`'s maximum (4 MB by default). A consumer that stops reading
    /// is closed with 4008 once this buffer and the queue are full, so a small buffer bounds kernel memory per
    /// socket and finds slow consumers sooner (otherwise the unanswered ping closes them).
    public var socketSendBuffer: Int?
    /// Sockets that have not authenticated yet, at most (`SOS_MAX_PENDING_WEBSOCKETS`).
    public var maxPendingSessions = 1_000

    public init() {}

    var sessionLimits: ConnectionStateMachine.Limits {
        ConnectionStateMachine.Limits(
            queueCapacity: self.outboundQueueCapacity, queueBytes: self.outboundQueueBytes, rateBurst: self.rateBurst,
            ratePerSecond: self.ratePerSecond, authTimeout: self.authTimeout
        )
    }
}
