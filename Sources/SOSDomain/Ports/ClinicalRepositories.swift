import Foundation

/// Doctors and their profiles, languages and ratings.
public protocol DoctorRepository: Sendable {
    /// A doctor user with their profile (an empty, unlisted one if none was saved); nil if no such doctor.
    func find(id: UUID) async throws -> Doctor?
    func find(ids: [UUID]) async throws -> [UUID: Doctor]
    func list(_ query: DoctorQuery) async throws -> Page<Doctor>
    /// Creates (`profile.version` 0) or replaces the profile (languages included) if the stored version is still
    /// `profile.version`; false when another write came first (nothing stored).
    func save(_ profile: DoctorProfile) async throws -> Bool
    /// Stores a rating and updates the doctor's `rating`/`rating_count` in one transaction.
    /// Throws `DomainError.conflict` when the appointment was already rated.
    func addRating(_ rating: DoctorRating) async throws -> DoctorProfile
}

/// Availability rules.
public protocol AvailabilityRepository: Sendable {
    func create(_ availability: Availability) async throws
    func update(_ availability: Availability) async throws
    func delete(id: UUID) async throws -> Bool
    func find(id: UUID) async throws -> Availability?
    /// Rules matching the filters; date filters keep rules that can occur in the range.
    func list(_ query: AvailabilityQuery) async throws -> [Availability]
}

/// The outcome of an atomic appointment write.
public enum AppointmentWrite: Sendable, Equatable {
    case saved
    /// Another slot-holding appointment of the doctor overlaps.
    case slotTaken
    /// The stored version is no longer the one the change was based on.
    case stale
    /// The patient already holds `maximum` open unpaid bookings of his own.
    case unpaidLimitReached(maximum: Int)
    /// A concurrent request with the same Idempotency-Key stored first; nothing was written.
    case keyTaken
}

/// Checked inside a booking write: a patient may hold at most `maximum` open unpaid bookings he made or accepted
/// (future, hold not yet expired), counted under a per-patient lock so a burst cannot exceed it.
public struct UnpaidLimit: Sendable, Equatable {
    public var maximum: Int
    public var now: Date

    public init(maximum: Int, now: Date) {
        self.maximum = maximum
        self.now = now
    }
}

/// Appointments. Booking and rescheduling are atomic with the overlap check, so a doctor is never double-booked;
/// every update is compare-and-set on `version`, so concurrent changes never overwrite each other.
public protocol AppointmentRepository: IdempotencyStore {
    /// Inserts unless a slot-holding appointment of the same doctor overlaps or the patient's unpaid limit is reached;
    /// records `idempotency` (pointing at the appointment) in the same transaction.
    func insert(_ appointment: Appointment, unpaidLimit: UnpaidLimit?, idempotency: IdempotencyKey?) async throws -> AppointmentWrite
    /// Saves `appointment` as version `expectedVersion + 1` if the stored version is still `expectedVersion`; when
    /// `checkOverlap`, refuses if the new time or status collides with another booking.
    func update(_ appointment: Appointment, expectedVersion: Int, checkOverlap: Bool, unpaidLimit: UnpaidLimit?) async throws -> AppointmentWrite
    func find(id: UUID) async throws -> Appointment?
    func details(id: UUID) async throws -> AppointmentDetails?
    func list(_ query: AppointmentQuery) async throws -> Page<AppointmentDetails>
    func delete(id: UUID) async throws -> Bool
    /// Slot-holding appointments of a doctor on a date.
    func booked(doctorId: UUID, date: LocalDate) async throws -> [Appointment]
    /// True when the patient and one of the doctors share a care relationship (`AccessPolicy.CareRelationship`).
    func hasCareRelationship(patientId: UUID, doctorIds: [UUID]) async throws -> Bool
    /// True when the patient made or accepted a booking with one of the doctors that is not cancelled.
    func hasAcceptedBooking(patientId: UUID, doctorIds: [UUID]) async throws -> Bool
    /// Appointments in the given statuses starting between `from` and `to`.
    func starting(from: Date, to: Date, statuses: [AppointmentStatus]) async throws -> [Appointment]
    /// Unpaid bookings whose hold ended at or before `now`, oldest first.
    func holdsEnded(at now: Date, limit: Int) async throws -> [Appointment]
}

/// Medical records, their attachments and their audit log.
public protocol MedicalRecordRepository: Sendable {
    func create(_ record: MedicalRecord, audit: RecordAuditEntry) async throws
    /// Saves the record as version `expectedVersion + 1` if the stored one is still `expectedVersion` (false otherwise).
    func update(_ record: MedicalRecord, expectedVersion: Int, audit: RecordAuditEntry) async throws -> Bool
    func delete(id: UUID, audit: RecordAuditEntry) async throws -> Bool
    func find(id: UUID) async throws -> MedicalRecord?
    func details(id: UUID) async throws -> MedicalRecordDetails?
    func list(_ query: RecordQuery) async throws -> Page<MedicalRecordDetails>
    func audit(_ entries: [RecordAuditEntry]) async throws
    func auditLog(recordId: UUID) async throws -> [RecordAuditEntry]
    /// Who else read or changed the patient's records, newest first.
    func accessLog(patientId: UUID, page: PageRequest) async throws -> Page<RecordAccess>
    func addAttachment(_ attachment: RecordAttachment, audit: RecordAuditEntry) async throws
    func attachments(recordId: UUID) async throws -> [RecordAttachment]
    func attachment(id: UUID) async throws -> RecordAttachment?
}

/// In-app notifications, preferences, reminder bookkeeping and the outbox of outside messages.
public protocol NotificationRepository: Sendable {
    func create(_ notifications: [AppNotification]) async throws
    func list(userId: UUID, page: PageRequest, unreadOnly: Bool) async throws -> Page<AppNotification>
    /// Marks read if it belongs to `userId`; returns the notification, or nil if not theirs.
    func markRead(id: UUID, userId: UUID, at: Date) async throws -> AppNotification?
    func preferences(userId: UUID) async throws -> NotificationPreferences
    func preferences(userIds: [UUID]) async throws -> [UUID: NotificationPreferences]
    func savePreferences(_ preferences: NotificationPreferences, userId: UUID) async throws
    /// In one transaction: records that the reminder for this appointment start went to this user, stores its
    /// notification and queues its messages. False (and nothing stored) if that reminder already went out.
    func deliverReminder(appointmentId: UUID, userId: UUID, startsAt: Date, notification: AppNotification, messages: [OutboxMessage]) async throws -> Bool
    func enqueue(_ messages: [OutboxMessage]) async throws
    func outbox(limit: Int) async throws -> [OutboxMessage]
}

/// Opaque per-user tokens for calendar subscription URLs.
public protocol CalendarTokenRepository: Sendable {
    func token(userId: UUID) async throws -> String?
    func save(token: String, userId: UUID, at: Date) async throws
    func user(forToken token: String) async throws -> UUID?
}

/// Where uploaded files live (profile pictures, record attachments).
public protocol FileStore: Sendable {
    /// Stores bytes under a new unguessable key within `area`; returns the key.
    func store(_ bytes: [UInt8], area: String, fileExtension: String) async throws -> String
    /// The bytes for a key, or nil if the key is not a valid stored file in `area`.
    func load(area: String, key: String) async throws -> [UInt8]?
    /// Removes a stored file (nothing happens for an unknown key).
    func delete(area: String, key: String) async throws
}

/// Who uploaded which stored file, and how big it is: for storage quotas, for knowing whose picture a URL is, and
/// for deleting what is replaced.
public protocol UploadRegistry: Sendable {
    func record(area: String, key: String, owner: UUID, size: Int, at: Date) async throws
    /// Bytes stored by `owner` in every area.
    func usage(owner: UUID) async throws -> Int
    func owner(area: String, key: String) async throws -> UUID?
    func remove(area: String, key: String) async throws
}

/// Payments and processed provider events.
public protocol PaymentRepository: IdempotencyStore {
    /// Inserts unless the appointment already has an open or paid payment; returns that payment instead (nil: inserted).
    /// Records `idempotency` (pointing at the payment) in the same transaction.
    func insertIfNoneOpen(_ payment: Payment, idempotency: IdempotencyKey?) async throws -> Payment?
    func find(id: UUID) async throws -> Payment?
    func find(intentId: String) async throws -> Payment?
    /// The appointment's pending or processing payment, if any.
    func open(appointmentId: UUID) async throws -> Payment?
    func details(id: UUID) async throws -> PaymentDetails?
    func list(_ query: PaymentQuery) async throws -> Page<PaymentDetails>
    /// Stores the provider's intent id and client secret without touching the status.
    func setIntent(id: UUID, intentId: String?, at: Date) async throws
    /// Compare-and-set: saves `payment` (status, provider ids, messages, refund fields) only if the stored status is
    /// still `expected`; false if it changed meanwhile.
    func transition(_ payment: Payment, from expected: PaymentStatus) async throws -> Bool
    /// Atomically adds `amountMinor` to the refunded total if it stays within the paid amount; false otherwise.
    func reserveRefund(id: UUID, amountMinor: Int64) async throws -> Bool
    func releaseRefund(id: UUID, amountMinor: Int64) async throws
    /// Marks the refunded total (at least `refundedMinor`) and derives refunded / partially_refunded.
    func completeRefund(id: UUID, refundedAtLeast refundedMinor: Int64, refundId: String?, reason: String?, at: Date) async throws -> Payment?
    /// Records a provider event id; false when it was already recorded.
    func recordEvent(id: String, type: String, at: Date) async throws -> Bool
    func hasEvent(id: String) async throws -> Bool
}
