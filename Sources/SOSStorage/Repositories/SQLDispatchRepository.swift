import Foundation
import SOSDomain
import SQLKit

/// `DispatchRepository` over SQLKit. The first accept is one conditional UPDATE (open state, nobody accepted, an
/// undeclined offer, no other active case of the doctor), under the doctor's advisory lock on PostgreSQL.
public struct SQLDispatchRepository: DispatchRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = """
        r.id, r.patient_id, r.symptoms, r.severity, r.latitude, r.longitude, r.place, r.country, r.language, r.kinds, r.state, r.wave,
        r.search_radius_km, r.accepted_doctor_id, r.accepted_kind, r.appointment_id, r.eta_minutes, r.red_flag, r.search_started_at,
        r.next_step_at, r.reason, r.created_at, r.updated_at, r.version
        """

    // MARK: - On call

    public func onCall(doctorId: UUID) async throws -> OnCallStatus? {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT doctor_id, on_call, by_schedule, latitude, longitude, radius_km, offers_home, offers_video, updated_at FROM doctor_on_call
                WHERE doctor_id = \(bind: doctorId)
                """).first().map { row in
                OnCallStatus(
                    doctorId: try row.value("doctor_id"), onCall: try row.value("on_call"), bySchedule: try row.value("by_schedule"),
                    latitude: try row.optional("latitude"),
                    longitude: try row.optional("longitude"), radiusKm: try row.value("radius_km"), kinds: try Self.kinds(row),
                    updatedAt: try row.optional("updated_at")
                )
            }
        }
    }

    public func saveOnCall(_ status: OnCallStatus) async throws {
        try await self.database.write { sql in
            try await sql.raw("""
                INSERT INTO doctor_on_call (doctor_id, on_call, by_schedule, latitude, longitude, radius_km, offers_home, offers_video, updated_at)
                VALUES (\(bind: status.doctorId), \(bind: status.onCall), \(bind: status.bySchedule), \(bind: status.latitude), \(bind: status.longitude),
                    \(bind: status.radiusKm), \(bind: status.kinds.contains(.home)), \(bind: status.kinds.contains(.video)), \(bind: status.updatedAt ?? Date()))
                ON CONFLICT (doctor_id) DO UPDATE SET on_call = excluded.on_call, by_schedule = excluded.by_schedule,
                    latitude = excluded.latitude, longitude = excluded.longitude,
                    radius_km = excluded.radius_km, offers_home = excluded.offers_home, offers_video = excluded.offers_video,
                    updated_at = excluded.updated_at
                """).run()
        }
    }

    public func candidates(_ query: CandidateQuery) async throws -> [SOSCandidate] {
        // step: a degree of longitude is shorter than one of latitude by cos(latitude)
        let scale = pow(cos(query.latitude * .pi / 180), 2)
        return try await self.database.read { sql in
            var filter: SQLQueryString = "WHERE (oc.on_call = \(bind: true) OR oc.by_schedule = \(bind: true))"
            if let box = query.box {
                filter += " AND oc.latitude BETWEEN \(bind: box.minLatitude) AND \(bind: box.maxLatitude)"
                if let longitudes = box.longitudes {
                    filter += " AND oc.longitude BETWEEN \(bind: longitudes.lowerBound) AND \(bind: longitudes.upperBound)"
                }
            }
            switch (query.kinds.contains(.home), query.kinds.contains(.video)) {
            case (true, true): filter += " AND (oc.offers_home = \(bind: true) OR oc.offers_video = \(bind: true))"
            case (true, false): filter += " AND oc.offers_home = \(bind: true)"
            case (false, true): filter += " AND oc.offers_video = \(bind: true)"
            case (false, false): return []
            }
            filter += """
                 AND EXISTS (SELECT 1 FROM doctor_languages l WHERE l.doctor_id = oc.doctor_id AND l.language = \(bind: query.language))
                 AND NOT EXISTS (SELECT 1 FROM sos_offers o WHERE o.request_id = \(bind: query.requestId) AND o.doctor_id = oc.doctor_id)
                 AND NOT EXISTS (SELECT 1 FROM sos_requests a WHERE a.accepted_doctor_id = oc.doctor_id AND a.state IN (\(binds: SOSState.active.map(\.rawValue))))
                """
            return try await sql.raw("""
                SELECT oc.doctor_id, oc.on_call, oc.latitude, oc.longitude, oc.radius_km, oc.offers_home, oc.offers_video, COALESCE(dp.rating, 0.0) AS rating
                FROM doctor_on_call oc JOIN users u ON u.id = oc.doctor_id AND u.status = \(bind: UserStatus.active.rawValue)
                LEFT JOIN doctor_profiles dp ON dp.user_id = oc.doctor_id
                \(filter) ORDER BY (oc.latitude - \(bind: query.latitude)) * (oc.latitude - \(bind: query.latitude))
                    + (oc.longitude - \(bind: query.longitude)) * (oc.longitude - \(bind: query.longitude)) * \(bind: scale), oc.doctor_id
                LIMIT \(bind: query.limit)
                """).all().map { row in
                SOSCandidate(
                    doctorId: try row.value("doctor_id"), latitude: try row.value("latitude"), longitude: try row.value("longitude"),
                    radiusKm: try row.value("radius_km"), kinds: try Self.kinds(row), rating: try row.value("rating", as: Double.self),
                    onlyBySchedule: !(try row.value("on_call", as: Bool.self))
                )
            }
        }
    }

    // MARK: - Requests

    public func insert(_ request: SOSRequest) async throws {
        try await self.database.write { sql in
            try await sql.raw("""
                INSERT INTO sos_requests (id, patient_id, symptoms, severity, latitude, longitude, place, country, language, kinds, state, wave,
                    search_radius_km, accepted_doctor_id, accepted_kind, appointment_id, eta_minutes, red_flag, search_started_at, next_step_at, reason,
                    created_at, updated_at, version)
                VALUES (\(bind: request.id), \(bind: request.patientId), \(bind: JSON.array(request.symptoms.map(JSON.string)).text),
                    \(bind: request.severity.rawValue), \(bind: request.location.latitude), \(bind: request.location.longitude), \(bind: request.location.place),
                    \(bind: request.location.country), \(bind: request.language), \(bind: Self.kindsText(request.kinds)), \(bind: request.state.rawValue),
                    \(bind: request.wave), \(bind: request.searchRadiusKm), \(bind: request.acceptedDoctorId), \(bind: request.acceptedKind?.rawValue),
                    \(bind: request.appointmentId), \(bind: request.etaMinutes), \(bind: request.redFlag), \(bind: request.searchStartedAt),
                    \(bind: request.nextStepAt), \(bind: request.reason), \(bind: request.createdAt), \(bind: request.updatedAt), \(bind: request.version))
                """).run()
        }
    }

    public func find(id: UUID) async throws -> SOSRequest? {
        try await self.database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM sos_requests r WHERE r.id = \(bind: id)").first().map(Self.request(from:))
        }
    }

    public func update(_ request: SOSRequest, expectedVersion: Int) async throws -> Bool {
        try await self.database.write { sql in
            try await sql.raw("""
                UPDATE sos_requests SET state = \(bind: request.state.rawValue), wave = \(bind: request.wave), search_radius_km = \(bind: request.searchRadiusKm),
                    accepted_doctor_id = \(bind: request.acceptedDoctorId), accepted_kind = \(bind: request.acceptedKind?.rawValue),
                    appointment_id = \(bind: request.appointmentId), eta_minutes = \(bind: request.etaMinutes),
                    search_started_at = \(bind: request.searchStartedAt), next_step_at = \(bind: request.nextStepAt), reason = \(bind: request.reason),
                    updated_at = \(bind: request.updatedAt), version = \(bind: expectedVersion + 1)
                WHERE id = \(bind: request.id) AND version = \(bind: expectedVersion) RETURNING id
                """).first() != nil
        }
    }

    public func accept(requestId: UUID, doctorId: UUID, kind: SOSKind, at: Date) async throws -> SOSRequest? {
        try await self.database.transaction { [databaseKind = self.database.kind, offerKind = kind] sql in
            try await SQLAppointmentRepository.lock(.sosDoctor, doctorId, kind: databaseKind, in: sql)
            let won = try await sql.raw("""
                UPDATE sos_requests SET state = \(bind: SOSState.accepted.rawValue), accepted_doctor_id = \(bind: doctorId),
                    accepted_kind = \(bind: offerKind.rawValue), next_step_at = NULL, updated_at = \(bind: at), version = version + 1
                WHERE id = \(bind: requestId) AND state IN (\(binds: SOSState.open.map(\.rawValue))) AND accepted_doctor_id IS NULL
                AND EXISTS (SELECT 1 FROM sos_offers o WHERE o.request_id = \(bind: requestId) AND o.doctor_id = \(bind: doctorId) AND o.declined_at IS NULL)
                AND NOT EXISTS (SELECT 1 FROM sos_requests a WHERE a.accepted_doctor_id = \(bind: doctorId)
                    AND a.state IN (\(binds: SOSState.active.map(\.rawValue))))
                RETURNING id
                """).first()
            guard won != nil else { return nil }
            return try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM sos_requests r WHERE r.id = \(bind: requestId)").first().map(Self.request(from:))
        }
    }

    // MARK: - Offers

    public func addOffers(_ offers: [SOSOffer]) async throws {
        guard !offers.isEmpty else { return }
        try await self.database.transaction { sql in
            for offer in offers {
                try await sql.raw("""
                    INSERT INTO sos_offers (request_id, doctor_id, wave, kind, distance_km, offered_at, declined_at)
                    VALUES (\(bind: offer.requestId), \(bind: offer.doctorId), \(bind: offer.wave), \(bind: offer.kind.rawValue), \(bind: offer.distanceKm),
                        \(bind: offer.offeredAt), \(bind: offer.declinedAt))
                    ON CONFLICT (request_id, doctor_id) DO NOTHING
                    """).run()
            }
        }
    }

    public func offers(requestId: UUID) async throws -> [SOSOffer] {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT request_id, doctor_id, wave, kind, distance_km, offered_at, declined_at FROM sos_offers
                WHERE request_id = \(bind: requestId) ORDER BY offered_at, distance_km
                """).all().map(Self.offer(from:))
        }
    }

    public func decline(requestId: UUID, doctorId: UUID, at: Date) async throws -> Bool {
        try await self.database.write { sql in
            try await sql.raw("""
                UPDATE sos_offers SET declined_at = \(bind: at)
                WHERE request_id = \(bind: requestId) AND doctor_id = \(bind: doctorId) AND declined_at IS NULL
                AND EXISTS (SELECT 1 FROM sos_requests r WHERE r.id = \(bind: requestId) AND r.state IN (\(binds: SOSState.open.map(\.rawValue))))
                RETURNING doctor_id
                """).first() != nil
        }
    }

    public func reopenOffers(requestId: UUID, handedBackBy doctorId: UUID, at: Date) async throws {
        try await self.database.transaction { sql in
            try await sql.raw("UPDATE sos_offers SET declined_at = \(bind: at) WHERE request_id = \(bind: requestId) AND doctor_id = \(bind: doctorId)").run()
            try await sql.raw("DELETE FROM sos_offers WHERE request_id = \(bind: requestId) AND declined_at IS NULL").run()
        }
    }

    public func openOffers(doctorId: UUID) async throws -> [(SOSRequest, SOSOffer)] {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT \(unsafeRaw: Self.columns), o.request_id, o.doctor_id, o.wave, o.kind, o.distance_km, o.offered_at, o.declined_at
                FROM sos_offers o JOIN sos_requests r ON r.id = o.request_id
                WHERE o.doctor_id = \(bind: doctorId) AND o.declined_at IS NULL AND r.state IN (\(binds: SOSState.open.map(\.rawValue)))
                ORDER BY o.offered_at DESC LIMIT 50
                """).all().map { (try Self.request(from: $0), try Self.offer(from: $0)) }
        }
    }

    // MARK: - Lists

    public func due(at now: Date, limit: Int) async throws -> [SOSRequest] {
        try await self.database.read { sql in
            try await sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM sos_requests r WHERE r.state IN (\(binds: SOSState.open.map(\.rawValue)))
                AND r.next_step_at <= \(bind: now) ORDER BY r.next_step_at LIMIT \(bind: limit)
                """).all().map(Self.request(from:))
        }
    }

    public func list(_ scope: SOSScope, states: [SOSState], limit: Int) async throws -> [SOSRequest] {
        try await self.database.read { sql in
            var filter: SQLQueryString = "WHERE r.state IN (\(binds: states.map(\.rawValue)))"
            switch scope {
            case .all: break
            case .doctors(let ids): filter += .andIn("r.accepted_doctor_id", ids)
            case .patient(let id): filter += " AND r.patient_id = \(bind: id)"
            }
            return try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM sos_requests r \(filter) ORDER BY r.created_at DESC LIMIT \(bind: limit)")
                .all().map(Self.request(from:))
        }
    }

    // MARK: - Rows

    static func kindsText(_ kinds: [SOSKind]) -> String {
        kinds.map(\.rawValue).joined(separator: ",")
    }

    static func kinds(_ row: any SQLRow) throws -> [SOSKind] {
        var kinds: [SOSKind] = []
        if try row.value("offers_home", as: Bool.self) { kinds.append(.home) }
        if try row.value("offers_video", as: Bool.self) { kinds.append(.video) }
        return kinds
    }

    static func request(from row: any SQLRow) throws -> SOSRequest {
        SOSRequest(
            id: try row.value("id"), patientId: try row.value("patient_id"), symptoms: try row.json("symptoms")?.strings ?? [],
            severity: SOSSeverity(rawValue: try row.value("severity")) ?? .moderate,
            location: SOSLocation(
                latitude: try row.value("latitude"), longitude: try row.value("longitude"), place: try row.value("place"), country: try row.value("country")
            ),
            language: try row.value("language"),
            kinds: (try row.value("kinds", as: String.self)).split(separator: ",").compactMap { SOSKind(rawValue: String($0)) },
            state: SOSState(rawValue: try row.value("state")) ?? .cancelled, wave: try row.value("wave", as: Int.self),
            searchRadiusKm: try row.optional("search_radius_km"), acceptedDoctorId: try row.optional("accepted_doctor_id"),
            acceptedKind: (try row.optional("accepted_kind", as: String.self)).flatMap(SOSKind.init(rawValue:)),
            appointmentId: try row.optional("appointment_id"), etaMinutes: try row.optional("eta_minutes", as: Int.self),
            redFlag: try row.value("red_flag"), searchStartedAt: try row.value("search_started_at"), nextStepAt: try row.optional("next_step_at"),
            reason: try row.optional("reason"), createdAt: try row.value("created_at"), updatedAt: try row.value("updated_at"),
            version: try row.value("version", as: Int.self)
        )
    }

    static func offer(from row: any SQLRow) throws -> SOSOffer {
        SOSOffer(
            requestId: try row.value("request_id"), doctorId: try row.value("doctor_id"), wave: try row.value("wave", as: Int.self),
            kind: SOSKind(rawValue: try row.value("kind")) ?? .home, distanceKm: try row.value("distance_km"), offeredAt: try row.value("offered_at"),
            declinedAt: try row.optional("declined_at")
        )
    }
}
