import Foundation
import PostgresNIO

/// A result row's columns by position, as the prepared fast paths read them — PostgreSQL's rows and SQLite's
/// statements — so that each hot shape has one decoder for both databases (`AppointmentPages.details(from:)`).
protocol ColumnReader {
    func optionalText(_ index: Int) throws -> String?
    func optionalUUID(_ index: Int) throws -> UUID?
    func optionalDate(_ index: Int) throws -> Date?
    func optionalInt(_ index: Int) throws -> Int?
    func double(_ index: Int) throws -> Double
    func bool(_ index: Int) throws -> Bool
}

extension ColumnReader {
    func text(_ index: Int) throws -> String { try Self.required(index, try self.optionalText(index)) }
    func uuid(_ index: Int) throws -> UUID { try Self.required(index, try self.optionalUUID(index)) }
    func date(_ index: Int) throws -> Date { try Self.required(index, try self.optionalDate(index)) }
    func int(_ index: Int) throws -> Int { try Self.required(index, try self.optionalInt(index)) }

    /// A text column parsed by `parse` (local dates and times), naming the column when the stored text does not parse.
    func stored<T>(_ index: Int, _ parse: (String) -> T?) throws -> T {
        let value = try self.text(index)
        guard let parsed = parse(value) else { throw StoredValueError(column: "#\(index)", value: value) }
        return parsed
    }

    private static func required<T>(_ index: Int, _ value: T?) throws -> T {
        guard let value else { throw StoredValueError(column: "#\(index)", value: "NULL") }
        return value
    }
}

/// A statement the hot paths keep prepared on both databases (`Database.rows(_:)`): the same SQL, its `$1`, `$2`…
/// parameters in order of appearance, bound from the same values, and each row read by position into a `Value`
/// (generic over the reader, so that each database's reading is specialized, not dispatched per column).
protocol KeptStatement: PostgresPreparedStatement where Row == PostgresRow {
    associatedtype Value: Sendable
    var sqliteBinds: [SQLiteReader.Bind] { get }
    static func value(from columns: some ColumnReader) throws -> Value
}

extension KeptStatement {
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// A PostgreSQL row by column position.
struct PostgresColumns: ColumnReader {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) {
        self.row = row.makeRandomAccess()
    }

    func optionalText(_ index: Int) throws -> String? { try self.row[index].decode(String?.self) }
    func optionalUUID(_ index: Int) throws -> UUID? { try self.row[index].decode(UUID?.self) }
    func optionalDate(_ index: Int) throws -> Date? { try self.row[index].decode(Date?.self) }
    func optionalInt(_ index: Int) throws -> Int? { try self.row[index].decode(Int?.self) }
    func double(_ index: Int) throws -> Double { try self.row[index].decode(Double.self) }
    func bool(_ index: Int) throws -> Bool { try self.row[index].decode(Bool.self) }
}
