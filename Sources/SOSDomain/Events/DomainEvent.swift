import Foundation

/// Something that happened in the domain, for live delivery (the WebSocket hub) to the users allowed to see it.
public struct DomainEvent: Sendable, Equatable {
    /// The wire type, e.g. `appointment.updated`.
    public var type: String
    /// Users who may see the event.
    public var userIds: Set<UUID>
    /// Also every admin and superadmin.
    public var includeAdmins: Bool
    /// What changed; the edge renders it as the REST API shows it.
    public var subject: EventSubject
    public var occurredAt: Date
    /// The connection that caused the event, which does not receive it back (a sender's own chat message).
    public var origin: String?

    public init(type: String, userIds: Set<UUID>, includeAdmins: Bool = true, subject: EventSubject, occurredAt: Date = Date(), origin: String? = nil) {
        self.type = type
        self.userIds = userIds
        self.includeAdmins = includeAdmins
        self.subject = subject
        self.occurredAt = occurredAt
        self.origin = origin
    }
}

/// The domain object an event is about.
public enum EventSubject: Sendable, Equatable {
    case appointment(Appointment)
    case appointmentDeleted(id: UUID, patientId: UUID, doctorId: UUID)
    case notification(AppNotification)
    case medicalRecord(MedicalRecord)
    case medicalRecordDeleted(id: UUID, patientId: UUID, doctorId: UUID)
    case payment(Payment)
    case chatMessage(ChatMessage)
    case chatReceipt(ChatMessage)
    case video(VideoConsultation)
    case sos(SOSMessage)
    /// Sessions to close: every one of a user's, or the one holding `tokenKey` (logout).
    case sessionRevoked(userId: UUID, tokenKey: String?, reason: RevocationReason)
}

/// Where services send their events. The hub implements it; tests record.
public protocol EventPublisher: Sendable {
    func publish(_ event: DomainEvent) async
}

/// Drops events (no hub).
public struct NoEventPublisher: EventPublisher {
    public init() {}
    public func publish(_ event: DomainEvent) async {}
}

/// Keeps every event, for tests and diagnostics.
public actor RecordingEventPublisher: EventPublisher {
    public private(set) var events: [DomainEvent] = []

    public init() {}

    public func publish(_ event: DomainEvent) async {
        self.events.append(event)
    }

    public func clear() {
        self.events.removeAll()
    }
}

/// What a broker hands its node.
public enum BrokerDelivery: Sendable, Equatable {
    case message(String)
    /// Messages published while this node was not listening (its PostgreSQL LISTEN connection was lost, and is back
    /// now) never reached it: what came before this point may be incomplete.
    case gap
}

/// Carries events between server nodes (in memory on one node; PostgreSQL LISTEN/NOTIFY across several).
///
/// The hub publishes every domain event to the broker and delivers what the broker hands back, so an event
/// raised on one node reaches the connections of every node.
public protocol Broker: Sendable {
    /// Sends an already-encoded message (at most a few kilobytes) to every node, this one included.
    func publish(_ message: String) async throws
    /// Messages from every node, in order per sender, until the broker stops; `.gap` where some may be missing.
    func messages() async -> AsyncStream<BrokerDelivery>
    /// Returns once messages published from now on reach this node (e.g. PostgreSQL LISTEN is active).
    func ready() async
    /// Whether messages reach other processes (false for the in-process broker).
    var reachesOtherNodes: Bool { get }
    /// Publishes without waiting, in order with the node's other messages (errors are logged by the broker).
    func post(_ message: String)
}

extension Broker {
    public func ready() async {}
    public var reachesOtherNodes: Bool { true }
}
