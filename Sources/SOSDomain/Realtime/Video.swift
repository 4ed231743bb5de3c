import Foundation

/// The seed's video consultation statuses.
public enum ConsultationStatus: String, DomainEnum {
    case scheduled
    case inProgress = "in_progress"
    case completed
    case cancelled
}

/// A video consultation room for one appointment.
public struct VideoConsultation: Sendable, Equatable {
    public var id: UUID
    public var appointmentId: UUID
    public var patientId: UUID
    public var doctorId: UUID
    public var roomSid: String
    public var status: ConsultationStatus
    public var startedAt: Date?
    public var endedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID = UUID(), appointmentId: UUID, patientId: UUID, doctorId: UUID, roomSid: String, status: ConsultationStatus,
                startedAt: Date? = nil, endedAt: Date? = nil, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.appointmentId = appointmentId
        self.patientId = patientId
        self.doctorId = doctorId
        self.roomSid = roomSid
        self.status = status
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whole seconds between start and end; nil until both are known.
    public var duration: Int? {
        guard let start = self.startedAt, let end = self.endedAt else { return nil }
        return max(0, Int(end.timeIntervalSince(start).rounded()))
    }

    /// Open: started and not ended; signaling is relayed only then.
    public var isOpen: Bool { self.status == .inProgress }
}

/// Storage of video consultations (one per appointment).
public protocol VideoRepository: Sendable {
    func find(appointmentId: UUID) async throws -> VideoConsultation?
    /// Inserts or replaces the consultation of its appointment.
    func save(_ consultation: VideoConsultation) async throws
}

/// A STUN or TURN server for WebRTC (`RTCIceServer`).
public struct IceServer: Sendable, Equatable {
    public var urls: [String]
    public var username: String?
    public var credential: String?

    public init(urls: [String], username: String? = nil, credential: String? = nil) {
        self.urls = urls
        self.username = username
        self.credential = credential
    }
}

/// Video consultations: the doctor (or staff) starts and ends them; patient and doctor read the status.
///
/// Rules: only the appointment's patient and doctor (and staff who can see the appointment) see a consultation;
/// only video or online appointments that are paid or confirmed can start; ending computes the duration.
public struct VideoService: Sendable {
    let videos: any VideoRepository
    let appointments: any AppointmentRepository
    let users: any UserRepository
    let events: any EventPublisher
    let secrets: any SecretSource
    let now: @Sendable () -> Date

    public init(videos: any VideoRepository, appointments: any AppointmentRepository, users: any UserRepository, events: any EventPublisher,
                secrets: any SecretSource, now: @escaping @Sendable () -> Date = { Date() }) {
        self.videos = videos
        self.appointments = appointments
        self.users = users
        self.events = events
        self.secrets = secrets
        self.now = now
    }

    /// The consultation of an appointment the caller can see; a `scheduled` one is created on first read.
    public func status(_ principal: Principal, appointmentId: UUID) async throws -> VideoConsultation {
        let appointment = try await self.visible(principal, appointmentId)
        if let existing = try await self.videos.find(appointmentId: appointmentId) { return existing }
        let now = self.now()
        let consultation = VideoConsultation(
            appointmentId: appointment.id, patientId: appointment.patientId, doctorId: appointment.doctorId,
            roomSid: "RM" + self.secrets.randomToken().prefix(30).filter { $0.isLetter || $0.isNumber }, status: .scheduled,
            createdAt: now, updatedAt: now
        )
        try await self.videos.save(consultation)
        return consultation
    }

    public func start(_ principal: Principal, appointmentId: UUID) async throws -> VideoConsultation {
        let appointment = try await self.visible(principal, appointmentId)
        guard let actor = AccessPolicy.actor(for: appointment, principal), actor == .doctor || actor == .staff else {
            throw DomainError.forbidden("Only the appointment's doctor (or clinic staff) starts the video consultation.")
        }
        guard appointment.consultationType == .video || appointment.consultationType == .online else {
            throw DomainError.conflict("This is a '\(appointment.consultationType.rawValue)' appointment; only video and online appointments have a video room.")
        }
        guard [.paymentCompleted, .confirmed, .inProgress].contains(appointment.status) else {
            throw DomainError.conflict("A consultation starts once the appointment is paid or confirmed (it is '\(appointment.status.rawValue)').")
        }
        var consultation = try await self.status(principal, appointmentId: appointmentId)
        guard consultation.status == .scheduled || consultation.status == .inProgress else {
            throw DomainError.conflict("This consultation is already \(consultation.status.rawValue).")
        }
        guard consultation.status == .scheduled else { return consultation }
        let now = self.now()
        consultation.status = .inProgress
        consultation.startedAt = now
        consultation.updatedAt = now
        try await self.videos.save(consultation)
        await self.publish(consultation)
        return consultation
    }

    public func end(_ principal: Principal, appointmentId: UUID) async throws -> VideoConsultation {
        let appointment = try await self.visible(principal, appointmentId)
        guard let actor = AccessPolicy.actor(for: appointment, principal), actor == .doctor || actor == .staff else {
            throw DomainError.forbidden("Only the appointment's doctor (or clinic staff) ends the video consultation; patients leave with video.leave or a hangup signal.")
        }
        var consultation = try await self.status(principal, appointmentId: appointmentId)
        guard consultation.status == .inProgress else {
            throw DomainError.conflict("Only a consultation in progress can end (this one is \(consultation.status.rawValue)).")
        }
        let now = self.now()
        consultation.status = .completed
        consultation.endedAt = now
        consultation.updatedAt = now
        try await self.videos.save(consultation)
        await self.publish(consultation)
        return consultation
    }

    /// The open consultation of an appointment between `principal` and the other party, for signaling.
    /// Returns the other party's id; throws when there is no open consultation the caller belongs to.
    public func peer(_ principal: Principal, appointmentId: UUID) async throws -> UUID {
        guard let consultation = try await self.videos.find(appointmentId: appointmentId),
              principal.id == consultation.patientId || principal.id == consultation.doctorId
        else {
            throw DomainError.notFound("No video consultation of yours for appointment \(appointmentId.uuidString.lowercased()).")
        }
        guard consultation.isOpen else {
            throw DomainError.conflict("The consultation is not open (it is \(consultation.status.rawValue)); the doctor starts it first.")
        }
        return principal.id == consultation.patientId ? consultation.doctorId : consultation.patientId
    }

    /// STUN servers, plus TURN servers with time-limited credentials (TURN REST API: username
    /// `expiry:userId`, credential base64(HMAC-SHA1(secret, username))).
    public static func iceServers(stun: [String], turn: [String], turnCredential: (_ username: String) -> String?, userId: UUID, ttl: TimeInterval,
                                  now: Date) -> [IceServer] {
        var servers: [IceServer] = []
        if !stun.isEmpty { servers.append(IceServer(urls: stun)) }
        let username = "\(Int(now.addingTimeInterval(ttl).timeIntervalSince1970)):\(userId.uuidString.lowercased())"
        if !turn.isEmpty, let credential = turnCredential(username) {
            servers.append(IceServer(urls: turn, username: username, credential: credential))
        }
        return servers
    }

    private func visible(_ principal: Principal, _ appointmentId: UUID) async throws -> Appointment {
        guard let appointment = try await self.appointments.find(id: appointmentId), AccessPolicy.actor(for: appointment, principal) != nil else {
            throw DomainError.notFound("No appointment with id \(appointmentId.uuidString.lowercased()).")
        }
        return appointment
    }

    private func publish(_ consultation: VideoConsultation) async {
        let secretaries = (try? await self.users.secretaryIds(forDoctor: consultation.doctorId)) ?? []
        await self.events.publish(DomainEvent(
            type: "video.status", userIds: Set([consultation.patientId, consultation.doctorId] + secretaries), subject: .video(consultation), occurredAt: self.now()
        ))
    }
}
