import Foundation

/// Who may see and change what. Every service asks here; nothing else decides access.
public enum AccessPolicy {
    /// What opens a patient's records written by *other* doctors to a doctor: one appointment between them that
    /// (a) the patient made or accepted himself — nothing staff or the doctor can set — and (b) is paid by a
    /// recorded payment or whose consultation is under way, and is not cancelled. Neither half alone is enough.
    public enum CareRelationship {
        public static let acceptance: PatientAcceptance = .accepted
        /// Statuses in which the consultation is happening, paid or not.
        public static let underway: [AppointmentStatus] = [.inProgress]
        /// Payment statuses that count as paid.
        public static let paid: [PaymentStatus] = [.succeeded, .partiallyRefunded]
    }

    /// The appointments a caller may see; nil for roles that have none (guests).
    public static func appointmentScope(_ principal: Principal) -> AppointmentScope? {
        switch principal.role {
        case .admin, .superadmin: .all
        case .secretary: .doctors(principal.user.associatedDoctors)
        case .doctor: .doctor(principal.id)
        case .patient: .patient(principal.id)
        case .guest: nil
        }
    }

    /// True when the caller manages the doctor's schedule and bookings: the doctor, an admin, or their secretary.
    public static func manages(doctorId: UUID, _ principal: Principal) -> Bool {
        switch principal.role {
        case .admin, .superadmin: true
        case .secretary: principal.user.associatedDoctors.contains(doctorId)
        case .doctor: principal.id == doctorId
        case .patient, .guest: false
        }
    }

    /// The caller's part in an appointment, or nil if they may not see it.
    public static func actor(for appointment: Appointment, _ principal: Principal) -> AppointmentStateMachine.Actor? {
        switch principal.role {
        case .admin, .superadmin:
            return .staff
        case .secretary:
            return principal.user.associatedDoctors.contains(appointment.doctorId) ? .staff : nil
        case .doctor:
            return appointment.doctorId == principal.id ? .doctor : nil
        case .patient:
            return appointment.patientId == principal.id ? .patient : nil
        case .guest:
            return nil
        }
    }

    /// The medical records a caller may see; nil for none.
    public static func recordScope(_ principal: Principal) -> RecordScope? {
        switch principal.role {
        case .admin, .superadmin: .all
        case .secretary: .writtenBy(doctorIds: principal.user.associatedDoctors)
        case .doctor: .careTeam(doctorIds: [principal.id])
        case .patient: .sharedWithPatient(principal.id)
        case .guest: nil
        }
    }

    /// Whether the caller may read one record. A doctor reads records he wrote, and those of patients he shares a
    /// `CareRelationship` with; a secretary reads those her doctors wrote.
    public static func canRead(_ record: MedicalRecord, _ principal: Principal, appointments: any AppointmentRepository) async throws -> Bool {
        switch Self.recordScope(principal) {
        case .none:
            return false
        case .all:
            return true
        case .sharedWithPatient(let patientId):
            return record.patientId == patientId && record.isSharedWithPatient
        case .careTeam(let doctorIds):
            if doctorIds.contains(record.doctorId) { return true }
            return try await appointments.hasCareRelationship(patientId: record.patientId, doctorIds: doctorIds)
        case .writtenBy(let doctorIds):
            return doctorIds.contains(record.doctorId)
        }
    }

    /// Whether the caller may change a record: its doctor, that doctor's secretary, or an admin.
    public static func canWrite(_ record: MedicalRecord, _ principal: Principal) -> Bool {
        principal.role.isAdmin || (principal.role != .patient && Self.manages(doctorId: record.doctorId, principal))
    }
}
