import Foundation
import SOSDomain
import SQLKit

extension SQLRow {
    /// Decodes a column, naming the column when the stored value has the wrong type.
    func value<T: Decodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self.decode(column: column, as: T.self)
    }

    /// A `YYYY-MM-DD` text column.
    func localDate(_ column: String) throws -> LocalDate {
        let text = try self.value(column, as: String.self)
        guard let date = LocalDate(text) else { throw StoredValueError(column: column, value: text) }
        return date
    }

    /// An `HH:MM:SS` text column.
    func localTime(_ column: String) throws -> LocalTime {
        let text = try self.value(column, as: String.self)
        guard let time = LocalTime(text) else { throw StoredValueError(column: column, value: text) }
        return time
    }

    /// A text column holding JSON; nil when NULL.
    func json(_ column: String) throws -> JSON? {
        JSON.parse(try self.optional(column, as: String.self))
    }

    /// The contact card selected as `<prefix>name`, `<prefix>email`, `<prefix>phone`, `<prefix>picture`.
    func person(prefix: String, id: UUID) throws -> PersonSummary {
        PersonSummary(
            id: id, name: try self.value(prefix + "name"), email: try self.optional(prefix + "email"), phone: try self.optional(prefix + "phone"),
            profilePicture: try self.optional(prefix + "picture")
        )
    }

    /// The doctor card selected with the `d_` prefix plus `d_specialisation` and `d_rating`.
    func doctorSummary(id: UUID) throws -> DoctorSummary {
        DoctorSummary(person: try self.person(prefix: "d_", id: id), specialisation: try self.value("d_specialisation"), rating: try self.value("d_rating", as: Double.self))
    }

    /// The appointment card selected as `ap_date`, `ap_start_time`, `ap_consultation_type`, `ap_status`.
    func appointmentSummary(id: UUID) throws -> AppointmentSummary {
        AppointmentSummary(
            id: id, date: try self.localDate("ap_date"), startTime: try self.localTime("ap_start_time"),
            consultationType: ConsultationType(rawValue: try self.value("ap_consultation_type")) ?? .online,
            status: AppointmentStatus(rawValue: try self.value("ap_status")) ?? .cancelled
        )
    }

    /// Decodes a nullable column; `nil` when NULL.
    func optional<T: Decodable>(_ column: String, as type: T.Type = T.self) throws -> T? {
        if try self.decodeNil(column: column) { return nil }
        return try self.decode(column: column, as: T.self)
    }
}

extension String {
    /// A `LIKE` pattern matching `self` anywhere, with `%`, `_` and `\` escaped (use with `ESCAPE '\'`).
    var likeContainsPattern: String {
        var escaped = ""
        for character in self.lowercased() {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return "%\(escaped)%"
    }
}

/// A stored value that does not parse: the database holds something this server did not write.
struct StoredValueError: Error, CustomStringConvertible {
    let column: String
    let value: String
    var description: String { "Column '\(self.column)' holds a malformed value '\(self.value.prefix(40))'." }
}

/// A storage invariant that did not hold (logged as a server error).
struct StorageError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

extension SQLQueryString {
    /// ` AND <column> IN (…)`; for no ids a condition that is never true (`IN ()` is not SQL).
    /// `column` is a constant of the calling repository, never input.
    static func andIn(_ column: String, _ ids: [UUID]) -> SQLQueryString {
        ids.isEmpty ? " AND 1 = 0" : " AND \(unsafeRaw: column) IN (\(binds: ids))"
    }
}
