import Foundation
import SOSDomain

/// Demo data for `seed-demo`: doctors with profiles and weekly availability, a secretary, patients,
/// appointments spread over the coming weeks, some records and payments. Idempotent per email.
///
/// `--scale N` creates 5·N doctors, 20·N patients and 50 appointments per doctor (N = 40: 200 doctors,
/// 10,000 appointments — the benchmark data set). Every demo account's password is `Demo1234!`.
struct DemoSeeder {
    let services: AppServices

    static let specialisations = ["General practice", "Pediatrics", "Dermatology", "Cardiology", "Travel medicine", "Gastroenterology", "ENT", "Gynecology"]
    static let languages = [["en"], ["en", "fr"], ["en", "es"], ["es"], ["fr", "de"], ["en", "it"], ["pt", "es"]]
    static let zones = ["Europe/Madrid", "Europe/Paris", "America/Mexico_City", "Asia/Bangkok", "Europe/Lisbon"]
    /// The currency of each zone's doctors.
    static let currencies = ["EUR", "EUR", "MXN", "THB", "EUR"]

    /// Fees in minor units: a home or hotel visit costs most, a chat least; the Mexican and Thai doctors' in their currencies.
    static func fees(_ index: Int) -> [ConsultationType: Int64] {
        let scale: Int64 = [1, 1, 18, 36, 1][index % 5]
        let step = Int64(index % 3) * 500
        return [.home: (12_000 + step) * scale, .online: (4_500 + step) * scale, .video: (4_500 + step) * scale, .chat: (2_500 + step) * scale]
    }

    /// How much demo data: `scale` sets the defaults (5·N doctors, 20·N patients, 50 appointments per doctor).
    struct Amount: Sendable {
        var doctors: Int
        var patients: Int
        var appointmentsPerDoctor: Int

        init(scale: Int, doctors: Int? = nil, patients: Int? = nil, appointmentsPerDoctor: Int? = nil) {
            self.doctors = doctors ?? 5 * scale
            self.patients = patients ?? 20 * scale
            self.appointmentsPerDoctor = appointmentsPerDoctor ?? 50
        }
    }

    func seed(scale: Int) async throws -> String {
        try await self.seed(Amount(scale: scale))
    }

    func seed(_ amount: Amount) async throws -> String {
        let now = Date()
        let hash = try await self.services.passwordHasher.hash("Demo1234!")
        var doctors: [User] = []
        var newDoctors: Set<UUID> = []
        var created = 0
        for index in 0..<amount.doctors {
            let (user, isNew) = try await self.account(email: "doctor\(index + 1)@demo.sos", name: "Dr Demo \(index + 1)", role: .doctor, hash: hash, now: now)
            doctors.append(user)
            if isNew {
                created += 1
                newDoctors.insert(user.id)
                try await self.profile(for: user, index: index, now: now)
            }
        }
        var patients: [User] = []
        for index in 0..<amount.patients {
            let (user, isNew) = try await self.account(email: "patient\(index + 1)@demo.sos", name: "Patient Demo \(index + 1)", role: .patient, hash: hash, now: now)
            patients.append(user)
            created += isNew ? 1 : 0
        }
        let (secretary, isNew) = try await self.account(email: "secretary@demo.sos", name: "Secretary Demo", role: .secretary, hash: hash, now: now)
        created += isNew ? 1 : 0
        if isNew {
            var updated = secretary
            updated.associatedDoctors = Array(doctors.prefix(3).map(\.id))
            try await self.services.users.update(updated)
        }
        var booked = 0
        for (index, doctor) in doctors.enumerated() where newDoctors.contains(doctor.id) && !patients.isEmpty {
            booked += try await self.appointments(for: doctor, doctorIndex: index, patients: patients, count: amount.appointmentsPerDoctor, now: now)
        }
        return "Demo data ready: \(created) new account(s), \(booked) new appointment(s); \(doctors.count) doctors, \(patients.count) patients, 1 secretary (password Demo1234!)."
    }

    private func account(email: String, name: String, role: Role, hash: String, now: Date) async throws -> (User, Bool) {
        if let existing = try await self.services.users.find(email: email) { return (existing, false) }
        let user = User(email: email, name: name, role: role, status: .active, isEmailVerified: true, createdAt: now, updatedAt: now)
        try await self.services.users.create(user, passwordHash: hash)
        return (user, true)
    }

    private func profile(for doctor: User, index: Int, now: Date) async throws {
        let profile = DoctorProfile(
            userId: doctor.id, specialisation: Self.specialisations[index % Self.specialisations.count],
            address: "\(index + 1) Demo Street", workingHours: .object(["monday-friday": .string("08:00-18:00")]),
            bio: "Demo doctor \(index + 1): \(Self.specialisations[index % Self.specialisations.count].lowercased()) for travellers.",
            isListed: index % 10 != 9, supportedLanguages: Self.languages[index % Self.languages.count],
            timeZone: Self.zones[index % Self.zones.count], fees: Self.fees(index), currency: try Currency(Self.currencies[index % Self.zones.count]),
            createdAt: now, updatedAt: now
        )
        _ = try await self.services.doctorStore.save(profile)
        let today = LocalDate.today(in: TimeZone(identifier: profile.timeZone)!, now: now)
        try await self.services.availabilityStore.create(Availability(
            doctorId: doctor.id, startDate: today, endDate: today, startTime: LocalTime(hour: 8, minute: 0)!, endTime: LocalTime(hour: 18, minute: 0)!,
            isRecurring: true, recurrence: .weekly, recurrenceDays: [.monday, .tuesday, .wednesday, .thursday, .friday],
            consultationTypes: ConsultationType.allCases, createdAt: now, updatedAt: now
        ))
    }

    /// `count` appointments per doctor on weekdays from tomorrow, 20 a day of 30 minutes each, mixed statuses.
    private func appointments(for doctor: User, doctorIndex: Int, patients: [User], count: Int, now: Date) async throws -> Int {
        guard let full = try await self.services.doctorStore.find(id: doctor.id) else { return 0 }
        let zone = TimeZone(identifier: full.profile.timeZone) ?? TimeZone(identifier: "UTC")!
        let statuses: [AppointmentStatus] = [.pendingPayment, .paymentCompleted, .confirmed, .confirmed, .completed, .cancelled]
        var day = LocalDate.today(in: zone, now: now).adding(days: 1)
        var made = 0
        var slot = 0
        while made < count {
            if day.weekday == .saturday || day.weekday == .sunday {
                day = day.adding(days: 1)
                continue
            }
            let start = LocalTime(seconds: 8 * 3600 + (slot % 20) * 1800)!
            let end = LocalTime(seconds: start.seconds + 1800)!
            let patient = patients[(doctorIndex * count + made) % patients.count]
            let type = ConsultationType.allCases[made % 4]
            let status = statuses[(doctorIndex + made) % statuses.count]
            let startsAt = WallClock.instant(day, start, in: zone)
            let rules = self.services.appointments.rules
            let appointment = Appointment(
                patientId: patient.id, doctorId: doctor.id, date: day, startTime: start, endTime: end, status: status, consultationType: type,
                symptoms: made % 3 == 0 ? ["fever", "headache"] : ["sore throat"], startsAt: startsAt,
                endsAt: WallClock.instant(day, end, in: zone), createdAt: now, updatedAt: now, bookedBy: patient.id, patientAcceptance: .accepted,
                holdExpiresAt: status == .pendingPayment ? rules.holdEnd(bookedAt: now, startsAt: startsAt, route: rules.newBookingRoute) : nil,
                cancellationReason: status == .cancelled ? "Cancelled by the patient." : nil, fee: full.profile.fee(for: type)
            )
            if try await self.services.appointmentStore.insert(appointment, unpaidLimit: nil, idempotency: nil) == .saved { made += 1 }
            slot += 1
            if slot % 20 == 0 { day = day.adding(days: 1) }
            if slot > 20 * count + 2000 { break }
        }
        return made
    }
}
