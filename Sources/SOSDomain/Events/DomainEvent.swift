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

    public init(type: String, userIds: Set<UUID>, includeAdmins: Bool = true, subject: EventSubject, occurredAt: Date = Date()) {
        self.type = type
        self.userIds = userIds
        self.includeAdmins = includeAdmins
        self.subject = subject
        self.occurredAt = occurredAt
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
