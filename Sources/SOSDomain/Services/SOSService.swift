import Foundation

/// What a patient sends (`POST /sos`).
public struct NewSOSRequest: Sendable {
    public var symptoms: [String]
    public var severity: SOSSeverity
    public var latitude: Double
    public var longitude: Double
    public var place: String?
    public var country: String
    public var language: String
    public var kinds: [SOSKind]

    public init(symptoms: [String], severity: SOSSeverity, latitude: Double, longitude: Double, place: String?, country: String, language: String,
                kinds: [SOSKind]) {
        self.symptoms = symptoms
        self.severity = severity
        self.latitude = latitude
        self.longitude = longitude
        self.place = place
        self.country = country
        self.language = language
        self.kinds = kinds
    }
}

/// What a doctor changes about his on-call state (`PUT /doctors/me/on-call`); nil keeps the stored value.
public struct OnCallChange: Sendable {
    public var onCall: Bool
    /// On call whenever his availability covers the moment; nil: unchanged.
    public var bySchedule: Bool?
    public var latitude: Double?
    public var longitude: Double?
    public var radiusKm: Double?
    public var kinds: [SOSKind]?

    public init(onCall: Bool, bySchedule: Bool? = nil, latitude: Double? = nil, longitude: Double? = nil, radiusKm: Double? = nil, kinds: [SOSKind]? = nil) {
        self.onCall = onCall
        self.bySchedule = bySchedule
        self.latitude = latitude
        self.longitude = longitude
        self.radiusKm = radiusKm
        self.kinds = kinds
    }
}

/// SOS dispatch: a patient's urgent request offered live to nearby on-call doctors, first accept wins.
///
/// Rules: only patients ask, one open request at a time; only doctors go on call, for themselves; candidates are on
/// call, connected to the hub, within their coverage and the wave's radius, speak the language, offer a kind the
/// patient accepts and have no active case; offers go out in waves (`DispatchRules`), then as video, then the
/// request ends as `no_doctor`; the first accept wins atomically and becomes a confirmed appointment; offered doctors
/// never see the place, coordinates or name (`SOSOfferView`); states follow `SOSStateMachine`; every write is
/// compare-and-set on the version.
public struct SOSService: Sendable {
    let dispatch: any DispatchRepository
    let doctors: any DoctorRepository
    let users: any UserRepository
    let appointments: AppointmentService
    let presence: any PresenceDirectory
    let events: any EventPublisher
    public let rules: DispatchRules
    let now: @Sendable () -> Date

    public init(dispatch: any DispatchRepository, doctors: any DoctorRepository, users: any UserRepository, appointments: AppointmentService,
                presence: any PresenceDirectory, events: any EventPublisher, rules: DispatchRules = DispatchRules(),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.dispatch = dispatch
        self.doctors = doctors
        self.users = users
        self.appointments = appointments
        self.presence = presence
        self.events = events
        self.rules = rules
        self.now = now
    }

    // MARK: - On call

    public func onCall(_ principal: Principal) async throws -> OnCallView {
        try AccessPolicy.require(.goOnCall, principal)
        return try await self.view(try await self.dispatch.onCall(doctorId: principal.id) ?? .off(principal.id))
    }

    /// A doctor goes on or off call, by hand or by schedule; either needs a base location (given now or stored before).
    public func setOnCall(_ principal: Principal, _ change: OnCallChange) async throws -> OnCallView {
        try AccessPolicy.require(.goOnCall, principal)
        var status = try await self.dispatch.onCall(doctorId: principal.id) ?? .off(principal.id)
        if (change.latitude == nil) != (change.longitude == nil) { throw DomainError.invalid("Send 'latitude' and 'longitude' together.") }
        if let latitude = change.latitude, let longitude = change.longitude {
            try Self.validate(latitude: latitude, longitude: longitude)
            status.latitude = latitude
            status.longitude = longitude
        }
        if let radius = change.radiusKm {
            guard radius.isFinite, DispatchRules.coverageRange.contains(radius) else {
                throw DomainError.invalid("'radius_km' must be between \(DispatchRules.coverageRange.lowerBound) and \(DispatchRules.coverageRange.upperBound).")
            }
            status.radiusKm = radius
        }
        if let kinds = change.kinds {
            guard !kinds.isEmpty else { throw DomainError.invalid("'kinds' must list at least one of: \(SOSKind.allowedValues).") }
            status.kinds = Self.unique(kinds)
        }
        if let bySchedule = change.bySchedule { status.bySchedule = bySchedule }
        let doctor = try await self.doctors.find(id: principal.id)
        if change.onCall || status.bySchedule {
            guard status.latitude != nil else {
                throw DomainError.invalid("Going on call (by hand or by schedule) needs your base location: send 'latitude' and 'longitude'.")
            }
            // step: an accepted case becomes an appointment at the doctor's fee for its kind; without one it could
            // not be paid, so each kind offered on call needs a fee
            let unpriced = status.kinds.filter { doctor?.profile.fee(for: $0.consultationType) == nil }
            if !unpriced.isEmpty {
                let priced = status.kinds.filter { !unpriced.contains($0) }.map(\.rawValue)
                throw DomainError.invalid("You have no fee for \(unpriced.map { "'\($0.consultationType.rawValue)'" }.joined(separator: " or ")) consultations, "
                    + "so you cannot offer \(unpriced.map(\.rawValue).joined(separator: " or ")) on call: set 'fees' in your profile (PUT /api/v1/doctors/\(principal.id.uuidString.lowercased()))"
                    + (priced.isEmpty ? "." : ", or send 'kinds': [\(priced.map { "\"\($0)\"" }.joined(separator: ", "))]."))
            }
        }
        status.onCall = change.onCall
        status.updatedAt = self.now()
        try await self.dispatch.saveOnCall(status)
        return try await self.view(status, doctor: doctor)
    }

    func view(_ status: OnCallStatus, doctor: Doctor? = nil) async throws -> OnCallView {
        var doctor = doctor
        if doctor == nil { doctor = try await self.doctors.find(id: status.doctorId) }
        var now = status.onCall
        if !now, status.bySchedule, let doctor { now = try await self.scheduledNow(doctor) }
        return OnCallView(status: status, languages: doctor?.profile.supportedLanguages ?? [], onCallNow: now)
    }

    /// Whether one of the doctor's availability rules covers this moment, in his time zone (on call by schedule).
    func scheduledNow(_ doctor: Doctor) async throws -> Bool {
        guard let zone = try? WallClock.timeZone(doctor.profile.timeZone) else { return false }
        let (date, time) = WallClock.local(self.now(), in: zone)
        let rules = try await self.appointments.availabilities.list(AvailabilityQuery(doctorId: doctor.user.id, startDate: date, endDate: date))
        return rules.contains { $0.occurs(on: date) && $0.startTime <= time && time < $0.endTime }
    }

    // MARK: - Requests

    /// A patient's SOS request: stored, the first wave offered at once, answered with its live status.
    public func request(_ principal: Principal, _ input: NewSOSRequest) async throws -> SOSCase {
        try AccessPolicy.require(.requestSOS, principal)
        guard !input.symptoms.isEmpty else { throw DomainError.invalid("'symptoms' must list at least one symptom.") }
        let symptoms = try AppointmentService.validSymptoms(input.symptoms)
        try Self.validate(latitude: input.latitude, longitude: input.longitude)
        let place = (try InputLimits.text(input.place, field: "place", limit: InputLimits.shortText) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let country = input.country.uppercased()
        guard country.count == 2, country.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
            throw DomainError.invalid("'country' must be an ISO 3166-1 alpha-2 code such as FR or US (got '\(input.country.prefix(20))').")
        }
        let language = input.language.lowercased()
        guard (2...3).contains(language.count), language.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) }) else {
            throw DomainError.invalid("'language' must be an ISO 639-1 code such as en or fr (got '\(input.language.prefix(20))').")
        }
        guard !input.kinds.isEmpty else { throw DomainError.invalid("'kinds' must list at least one of: \(SOSKind.allowedValues).") }
        if let open = try await self.dispatch.list(.patient(principal.id), states: SOSState.open + SOSState.active, limit: 1).first {
            throw DomainError.conflict("You already have an SOS request in progress (\(open.id.uuidString.lowercased()), \(open.state.rawValue)); cancel it first.")
        }
        let now = self.now()
        let request = SOSRequest(
            patientId: principal.id, symptoms: symptoms, severity: input.severity,
            location: SOSLocation(latitude: input.latitude, longitude: input.longitude, place: place, country: country), language: language,
            kinds: Self.unique(input.kinds), redFlag: RedFlags.raised(severity: input.severity, symptoms: symptoms), searchStartedAt: now,
            nextStepAt: now, createdAt: now, updatedAt: now
        )
        try await self.dispatch.insert(request)
        let offered = try await self.offerWave(request, now: now) ?? request
        return try await self.announce(offered)
    }

    /// One request, for its patient, the doctor who has it, his secretaries and admins (anyone else: 404).
    public func get(_ principal: Principal, id: UUID) async throws -> SOSCase {
        try await self.sosCase(try await self.visible(principal, id: id))
    }

    /// Requests in progress, for staff: admins all, a secretary those of her doctors.
    public func list(_ principal: Principal) async throws -> [SOSCase] {
        let scope = try AccessPolicy.sosScope(principal)
        var cases: [SOSCase] = []
        for request in try await self.dispatch.list(scope, states: SOSState.open + SOSState.active, limit: 100) {
            cases.append(try await self.sosCase(request))
        }
        return cases
    }

    /// The offers a doctor holds now (what `sos.offer` sent him, for a client that reconnects).
    public func offers(_ principal: Principal) async throws -> [SOSOfferView] {
        try AccessPolicy.require(.goOnCall, principal)
        let base = try await self.dispatch.onCall(doctorId: principal.id)
        return try await self.dispatch.openOffers(doctorId: principal.id).map { Self.view($0.0, $0.1, base: base) }
    }

    // MARK: - Helpers

    /// The request if the caller may see it whole; 404 otherwise (offered doctors included).
    func visible(_ principal: Principal, id: UUID) async throws -> SOSRequest {
        guard let request = try await self.dispatch.find(id: id), AccessPolicy.sees(request, principal) else {
            throw DomainError.notFound("No SOS request with id \(id.uuidString.lowercased()).")
        }
        return request
    }

    /// The request with its live status.
    func sosCase(_ request: SOSRequest) async throws -> SOSCase {
        let offers = try await self.dispatch.offers(requestId: request.id)
        var card: SOSDoctorCard?
        if let doctorId = request.acceptedDoctorId, let doctor = try await self.doctors.find(id: doctorId) {
            let distance = offers.first { $0.doctorId == doctorId }?.distanceKm ?? 0
            card = SOSDoctorCard(
                id: doctorId, name: doctor.user.name, profilePicture: doctor.user.profilePicture, languages: doctor.profile.supportedLanguages ?? [],
                rating: doctor.profile.rating, distanceKm: (distance * 10).rounded() / 10
            )
        }
        let status = SOSStatusView(
            requestId: request.id, state: request.state, offered: offers.count, emergencyNumber: request.emergencyNumber, doctor: card,
            kind: request.acceptedKind, etaMinutes: request.etaMinutes, appointmentId: request.appointmentId,
            message: Self.message(request, offered: offers.count, doctor: card?.name), updatedAt: request.updatedAt
        )
        return SOSCase(request: request, status: status)
    }

    /// Sends `sos.status` to the patient, the doctor who has the case, his secretaries and admins; returns the case.
    @discardableResult
    func announce(_ request: SOSRequest) async throws -> SOSCase {
        let sosCase = try await self.sosCase(request)
        var audience: Set<UUID> = [request.patientId]
        if let doctor = request.acceptedDoctorId {
            audience.insert(doctor)
            audience.formUnion((try? await self.users.secretaryIds(forDoctor: doctor)) ?? [])
        }
        await self.publish("sos.status", .status(sosCase.status), to: audience, admins: true)
        return sosCase
    }

    func publish(_ type: String, _ message: SOSMessage, to users: Set<UUID>, admins: Bool = false) async {
        guard !users.isEmpty || admins else { return }
        await self.events.publish(DomainEvent(type: type, userIds: users, includeAdmins: admins, subject: .sos(message), occurredAt: self.now()))
    }

    /// What an offered doctor is shown: distance rounded to whole km, the country and a direction from his base.
    static func view(_ request: SOSRequest, _ offer: SOSOffer, base: OnCallStatus?) -> SOSOfferView {
        let km = Geo.approximateKm(offer.distanceKm)
        var area = request.location.country
        if offer.kind == .home, let latitude = base?.latitude, let longitude = base?.longitude {
            area += ", about \(km) km \(Geo.compass(from: latitude, longitude, to: request.location.latitude, request.location.longitude)) of your base"
        }
        return SOSOfferView(
            requestId: request.id, symptoms: request.symptoms, severity: request.severity, language: request.language, kind: offer.kind,
            distanceKm: km, area: area, wave: offer.wave, offeredAt: offer.offeredAt
        )
    }

    /// The status in plain words for the patient.
    static func message(_ request: SOSRequest, offered: Int, doctor: String?) -> String {
        let number = request.emergencyNumber.map { "Call \($0.number) now if this is life-threatening. " } ?? ""
        let name = doctor ?? "The doctor"
        switch request.state {
        case .searching: return number + "Looking for a doctor near you: \(offered) asked so far."
        case .videoFallback: return number + "No doctor could come in time; asking doctors for a video consultation."
        case .accepted: return request.acceptedKind == .video ? "\(name) accepted; your video consultation starts in the app." : "\(name) accepted and will come to you."
        case .onTheWay: return "\(name) is on the way" + (request.etaMinutes.map { ", about \($0) minutes away." } ?? ".")
        case .arrived: return "\(name) has arrived."
        case .closed: return "The case is closed."
        case .cancelled: return "The request was cancelled."
        case .noDoctor: return "No doctor is available right now. Call \(request.emergencyNumber?.number ?? EmergencyNumbers.fallback.number), the local emergency number, if you need help."
        }
    }

    static func validate(latitude: Double, longitude: Double) throws {
        guard latitude.isFinite, (-90...90).contains(latitude), longitude.isFinite, (-180...180).contains(longitude) else {
            throw DomainError.invalid("'latitude' must be within -90…90 and 'longitude' within -180…180.")
        }
    }

    static func unique(_ kinds: [SOSKind]) -> [SOSKind] {
        SOSKind.allCases.filter(kinds.contains)
    }
}
