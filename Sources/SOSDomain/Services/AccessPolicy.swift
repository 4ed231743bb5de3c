import Foundation

/// Something a caller may be allowed to do. Each role-gated rule of the services is one case; which roles hold it
/// is `AccessPolicy.grants`, the one table (the role × endpoint test matrix is generated from it).
public enum Permission: String, CaseIterable, Sendable {
    // accounts
    case listUsers, readOtherUsers, createUsers, changeOtherUsers, deleteUsers
    // doctors and availability
    case seeUnlistedDoctors, haveDoctorProfile, editAnyDoctorProfile, changeDoctorEmail, rateDoctors, seeAvailability
    // appointments
    case seeAppointments, listAllAppointments, filterAppointmentsByPatient, bookAsPatient, bookForPatients, deleteAnyAppointment
    // medical records
    case seeRecords, writeRecords, writeRecordsWithoutAppointment, filterRecordsByPatient, filterRecordsByDoctor, deleteRecords
    case readRecordAuditLog, readOwnAccessLog, readAnyAccessLog
    // payments and the dashboard
    case seePayments, refundPayments, filterPaymentsByPatient, readDashboard, readWholeClinic
    // real time
    case chatWithAnyone, queryAnyonesPresence
    // SOS dispatch
    case goOnCall, requestSOS, watchSOS
    // operations (development mode)
    case readDevOutbox, loadDemoData

    /// What a caller without the permission is told.
    public var refusal: String {
        switch self {
        case .listUsers: "Only administrators and secretaries can list users."
        case .readOtherUsers: "Only administrators and secretaries read other users' accounts."
        case .createUsers: "Only administrators can create users."
        case .changeOtherUsers: "Only administrators can change other users."
        case .deleteUsers: "Only administrators can delete users."
        case .seeUnlistedDoctors: "Only clinic staff and doctors see unlisted doctors."
        case .haveDoctorProfile: "Only doctors have a doctor profile of their own."
        case .editAnyDoctorProfile: "Only administrators and doctors can edit doctor profiles."
        case .changeDoctorEmail: "Only an administrator can change a doctor's email (PUT /api/v1/users/:id)."
        case .rateDoctors: "Only patients rate doctors."
        case .seeAvailability: "Guests cannot see availabilities."
        case .seeAppointments: "Your role has no appointments."
        case .listAllAppointments: "Only administrators and secretaries can list all appointments."
        case .filterAppointmentsByPatient: "Only administrators and secretaries can filter appointments by 'userId'."
        case .bookAsPatient: "Guests cannot book appointments; sign up as a patient first."
        case .bookForPatients: "You can only book appointments for doctors you manage."
        case .deleteAnyAppointment: "Only administrators delete appointments (patients: their own, while unpaid or cancelled). Cancel it instead: PUT status 'cancelled'."
        case .seeRecords: "Your role has no access to medical records."
        case .writeRecords: "Only doctors, secretaries and administrators create medical records."
        case .writeRecordsWithoutAppointment: "The doctor has no appointment with this patient that the patient made or accepted."
        case .filterRecordsByPatient: "'userId' filtering is for doctors, secretaries and administrators."
        case .filterRecordsByDoctor: "'doctorId' filtering is for administrators and secretaries."
        case .deleteRecords: "Only administrators delete medical records."
        case .readRecordAuditLog: "Only administrators read the audit log."
        case .readOwnAccessLog: "The access log belongs to the patient (and administrators); ask the patient."
        case .readAnyAccessLog: "A patient reads his own access log; leave 'userId' out."
        case .seePayments: "Guests have no payments."
        case .refundPayments: "Only administrators and secretaries refund payments."
        case .filterPaymentsByPatient: "Only administrators and secretaries can filter payments by 'userId'."
        case .readDashboard: "The dashboard is for administrators and secretaries."
        case .readWholeClinic: "Only administrators see the whole clinic."
        case .chatWithAnyone: "Only clinic staff write to anyone."
        case .queryAnyonesPresence: "Only administrators see anyone's presence."
        case .goOnCall: "Only doctors go on call, for themselves."
        case .requestSOS: "Only patients send SOS requests; sign up as a patient first."
        case .watchSOS: "Only administrators and secretaries list SOS requests."
        case .readDevOutbox: "Only administrators read the development outbox."
        case .loadDemoData: "Only administrators load demo data."
        }
    }
}

/// Who may see and change what. Every service asks here; nothing else decides access. Role-gated rules are the
/// `grants` table; rules that depend on the object (whose appointment, which doctor a secretary works for, the care
/// relationship behind a record) are the functions below it.
public enum AccessPolicy {
    static let admins: Set<Role> = [.admin, .superadmin]
    static let staff: Set<Role> = [.admin, .superadmin, .secretary]
    static let signedUp: Set<Role> = [.admin, .superadmin, .secretary, .doctor, .patient]

    /// Which roles hold each permission: the one table of role-gated access.
    public static let grants: [Permission: Set<Role>] = [
        .listUsers: staff, .readOtherUsers: staff, .createUsers: admins, .changeOtherUsers: admins, .deleteUsers: admins,
        .seeUnlistedDoctors: staff.union([.doctor]), .haveDoctorProfile: [.doctor], .editAnyDoctorProfile: admins,
        .changeDoctorEmail: admins, .rateDoctors: [.patient], .seeAvailability: signedUp,
        .seeAppointments: signedUp, .listAllAppointments: staff, .filterAppointmentsByPatient: staff, .bookAsPatient: [.patient],
        .bookForPatients: staff.union([.doctor]), .deleteAnyAppointment: admins,
        .seeRecords: signedUp, .writeRecords: staff.union([.doctor]), .writeRecordsWithoutAppointment: admins,
        .filterRecordsByPatient: staff.union([.doctor]), .filterRecordsByDoctor: staff, .deleteRecords: admins,
        .readRecordAuditLog: admins, .readOwnAccessLog: [.patient], .readAnyAccessLog: admins,
        .seePayments: signedUp, .refundPayments: staff, .filterPaymentsByPatient: staff, .readDashboard: staff, .readWholeClinic: admins,
        .chatWithAnyone: staff, .queryAnyonesPresence: admins,
        .goOnCall: [.doctor], .requestSOS: [.patient], .watchSOS: staff,
        .readDevOutbox: admins, .loadDemoData: admins,
    ]

    public static func allows(_ permission: Permission, _ role: Role) -> Bool {
        Self.grants[permission]?.contains(role) ?? false
    }

    public static func allows(_ permission: Permission, _ principal: Principal) -> Bool {
        Self.allows(permission, principal.role)
    }

    /// Throws 403 with the permission's refusal unless the caller holds it.
    public static func require(_ permission: Permission, _ principal: Principal) throws {
        guard Self.allows(permission, principal) else { throw DomainError.forbidden(permission.refusal) }
    }

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

    // MARK: - Accounts

    /// Whether `principal` may change or delete `user`: nobody touches an account that outranks him.
    public static func mayManage(_ user: User, _ principal: Principal) -> Bool {
        user.role.rank <= principal.role.rank
    }

    /// Whether `principal` may give someone `role`: nobody grants more than he has.
    public static func mayGrant(_ role: Role, _ principal: Principal) -> Bool {
        role.rank <= principal.role.rank
    }

    // MARK: - Doctors

    /// Whether the caller sees a doctor: listed and active, or himself, or he may see unlisted doctors.
    public static func sees(_ doctor: Doctor, _ principal: Principal) -> Bool {
        Self.allows(.seeUnlistedDoctors, principal) || principal.id == doctor.user.id || (doctor.profile.isListed && doctor.user.status == .active)
    }

    /// Whether the caller edits this doctor's profile: the doctor himself, or an administrator.
    public static func editsProfile(of doctorId: UUID, _ principal: Principal) -> Bool {
        Self.allows(.editAnyDoctorProfile, principal) || (principal.role == .doctor && principal.id == doctorId)
    }

    // MARK: - Appointments

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

    /// Whether the caller deletes an appointment: administrators any; its patient while it is unpaid or cancelled.
    public static func deletes(_ appointment: Appointment, actor: AppointmentStateMachine.Actor, _ principal: Principal) -> Bool {
        Self.allows(.deleteAnyAppointment, principal) || (actor == .patient && (appointment.isUnpaid || appointment.status == .cancelled))
    }

    // MARK: - SOS dispatch

    /// The SOS requests a staff member sees: admins all, a secretary those her doctors accepted.
    public static func sosScope(_ principal: Principal) throws -> SOSScope {
        try Self.require(.watchSOS, principal)
        return Self.allows(.readWholeClinic, principal) ? .all : .doctors(principal.user.associatedDoctors)
    }

    /// Whether the caller sees a whole request (place, coordinates, status): its patient, the doctor who accepted
    /// it, admins, and the secretaries of that doctor. Offered doctors see only `SOSOfferView`.
    public static func sees(_ request: SOSRequest, _ principal: Principal) -> Bool {
        if principal.id == request.patientId || Self.allows(.readWholeClinic, principal) { return true }
        guard let doctor = request.acceptedDoctorId else { return false }
        return (principal.role == .doctor || principal.role == .secretary) && Self.manages(doctorId: doctor, principal)
    }

    // MARK: - Medical records

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
        Self.allows(.writeRecords, principal) && Self.manages(doctorId: record.doctorId, principal)
    }

    // MARK: - Payments and the dashboard

    /// The payments a caller may list; nil for none.
    public static func paymentScope(_ principal: Principal) -> PaymentScope? {
        switch principal.role {
        case .admin, .superadmin: .all
        case .secretary: .doctors(principal.user.associatedDoctors)
        case .doctor: .doctor(principal.id)
        case .patient: .payer(principal.id)
        case .guest: nil
        }
    }

    /// Whether the caller sees one payment: its payer, admins, and the appointment's doctor or his secretaries.
    public static func sees(_ payment: Payment, of appointment: Appointment?, _ principal: Principal) -> Bool {
        if Self.allows(.readWholeClinic, principal) || payment.userId == principal.id { return true }
        guard principal.role == .doctor || principal.role == .secretary, let appointment else { return false }
        return Self.manages(doctorId: appointment.doctorId, principal)
    }

    /// The doctors whose numbers the dashboard shows the caller: nil for the whole clinic (admins).
    public static func dashboardDoctors(_ principal: Principal) throws -> [UUID]? {
        try Self.require(.readDashboard, principal)
        return Self.allows(.readWholeClinic, principal) ? nil : principal.user.associatedDoctors
    }

    // MARK: - Real time

    /// Who is related to whom — the one rule behind chat between a patient and a doctor, and behind whose presence a
    /// user hears (`Relationships` answers it, with one cache): a patient and a doctor are related while they share an
    /// appointment that is not cancelled; a secretary and the doctors she works for are related. Records ask for more
    /// (`CareRelationship`: an appointment the patient made or accepted, paid or under way).
    public enum Related {
        /// The appointment status that no longer relates the two people.
        public static let ended: AppointmentStatus = .cancelled
    }

    /// Whether `sender` may write to `recipient` (and show typing): staff and anyone; doctor and doctor; patient
    /// and doctor when they are related (`related`, see `Related`); never patient and patient, guests or oneself.
    public static func mayChat(_ sender: User, _ recipient: User, related haveAppointment: () async throws -> Bool) async throws -> Bool {
        guard sender.id != recipient.id, sender.status != .blocked, recipient.status != .blocked, sender.role != .guest, recipient.role != .guest else {
            return false
        }
        if Self.allows(.chatWithAnyone, sender.role) || Self.allows(.chatWithAnyone, recipient.role) { return true }
        switch (sender.role, recipient.role) {
        case (.doctor, .doctor): return true
        case (.patient, .doctor), (.doctor, .patient): return try await haveAppointment()
        default: return false
        }
    }
}
