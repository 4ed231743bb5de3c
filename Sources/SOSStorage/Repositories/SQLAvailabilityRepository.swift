import Foundation
import SOSDomain
import SQLKit

/// `AvailabilityRepository` over SQLKit. Weekdays and consultation types are stored comma separated.
public struct SQLAvailabilityRepository: AvailabilityRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = """
        id, doctor_id, start_date, end_date, start_time, end_time, is_recurring, recurrence, recurrence_days, recurrence_end_date,
        consultation_types, created_at, updated_at
        """

    public func create(_ availability: Availability) async throws {
        try await self.database.write { sql in
            try await sql.raw("""
                INSERT INTO availabilities (\(unsafeRaw: Self.columns)) VALUES (\(bind: availability.id), \(bind: availability.doctorId),
                    \(bind: availability.startDate.description), \(bind: availability.endDate.description), \(bind: availability.startTime.description),
                    \(bind: availability.endTime.description), \(bind: availability.isRecurring), \(bind: availability.recurrence?.rawValue),
                    \(bind: Self.list(availability.recurrenceDays.map(\.rawValue))), \(bind: availability.recurrenceEndDate?.description),
                    \(bind: Self.list(availability.consultationTypes.map(\.rawValue))), \(bind: availability.createdAt), \(bind: availability.updatedAt))
                """).run()
        }
    }

    public func update(_ availability: Availability) async throws {
        try await self.database.write { sql in
            try await sql.raw("""
                UPDATE availabilities SET start_date = \(bind: availability.startDate.description), end_date = \(bind: availability.endDate.description),
                    start_time = \(bind: availability.startTime.description), end_time = \(bind: availability.endTime.description),
                    is_recurring = \(bind: availability.isRecurring), recurrence = \(bind: availability.recurrence?.rawValue),
                    recurrence_days = \(bind: Self.list(availability.recurrenceDays.map(\.rawValue))),
                    recurrence_end_date = \(bind: availability.recurrenceEndDate?.description),
                    consultation_types = \(bind: Self.list(availability.consultationTypes.map(\.rawValue))), updated_at = \(bind: availability.updatedAt)
                WHERE id = \(bind: availability.id)
                """).run()
        }
    }

    public func delete(id: UUID) async throws -> Bool {
        try await self.database.write { sql in
            try await sql.raw("DELETE FROM availabilities WHERE id = \(bind: id) RETURNING id").first() != nil
        }
    }

    public func find(id: UUID) async throws -> Availability? {
        try await self.database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM availabilities WHERE id = \(bind: id)").first().map(Self.availability(from:))
        }
    }

    public func list(_ query: AvailabilityQuery) async throws -> [Availability] {
        try await self.database.read { sql in
            var filter: SQLQueryString = "WHERE 1 = 1"
            if let doctorId = query.doctorId { filter += " AND doctor_id = \(bind: doctorId)" }
            if let doctorIds = query.doctorIds {
                filter += .andIn("doctor_id", doctorIds)
            }
            if query.listedDoctorsOnly {
                filter += """
                     AND doctor_id IN (SELECT u.id FROM users u JOIN doctor_profiles dp ON dp.user_id = u.id
                     WHERE dp.is_listed = TRUE AND u.status = 'active')
                    """
            }
            if let end = query.endDate { filter += " AND start_date <= \(bind: end.description)" }
            if let start = query.startDate {
                filter += """
                     AND (CASE WHEN is_recurring = TRUE AND recurrence IS NOT NULL THEN recurrence_end_date ELSE end_date END IS NULL
                     OR CASE WHEN is_recurring = TRUE AND recurrence IS NOT NULL THEN recurrence_end_date ELSE end_date END >= \(bind: start.description))
                    """
            }
            if let type = query.consultationType {
                filter += " AND (',' || consultation_types || ',') LIKE \(bind: "%,\(type.rawValue),%")"
            }
            return try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM availabilities \(filter) ORDER BY start_date, start_time, id").all()
                .map(Self.availability(from:))
        }
    }

    static func list(_ values: [String]) -> String { values.joined(separator: ",") }

    static func availability(from row: any SQLRow) throws -> Availability {
        let days = try row.value("recurrence_days", as: String.self).split(separator: ",").compactMap { Weekday(rawValue: String($0)) }
        let types = try row.value("consultation_types", as: String.self).split(separator: ",").compactMap { ConsultationType(rawValue: String($0)) }
        return Availability(
            id: try row.value("id"), doctorId: try row.value("doctor_id"), startDate: try row.localDate("start_date"), endDate: try row.localDate("end_date"),
            startTime: try row.localTime("start_time"), endTime: try row.localTime("end_time"), isRecurring: try row.value("is_recurring"),
            recurrence: try row.optional("recurrence", as: String.self).flatMap(Recurrence.init(rawValue:)), recurrenceDays: days,
            recurrenceEndDate: try row.optional("recurrence_end_date", as: String.self).flatMap { LocalDate($0) },
            consultationTypes: types, createdAt: try row.value("created_at"), updatedAt: try row.value("updated_at")
        )
    }
}
