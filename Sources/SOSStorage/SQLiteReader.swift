import Foundation
import VaporCSQLite

/// A read-only connection to the embedded database for the hottest reads, beside SQLiteNIO's connections.
///
/// Its statements are prepared once and kept, they run on the calling thread (a page of indexed rows from SQLite's
/// page cache takes microseconds, less than the hop to a thread pool and back that SQLiteNIO makes for each query),
/// and rows are read by column position. In WAL mode it sees the last commit and never waits for the writer.
/// One task at a time uses it (it lives in an `AsyncLease`), which is what makes it `Sendable`.
final class SQLiteReader: @unchecked Sendable {
    /// A value bound to a statement's `$n` parameter.
    enum Bind: Equatable {
        case text(String)
        case integer(Int64)
    }

    /// A kept statement and the values bound to it last. Binding a parameter that the plan depends on (SQLite
    /// re-plans for a new `LIMIT` value) makes the next step prepare the statement again, so a parameter is bound only
    /// when its value changes.
    private struct Prepared {
        let statement: OpaquePointer
        var bound: [Bind?]
    }

    private let handle: OpaquePointer
    private var statements: [String: Prepared] = [:]

    init(path: String) throws {
        var handle: OpaquePointer?
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "status \(status)"
            sqlite_nio_sqlite3_close_v2(handle)
            throw DatabaseSetupError("Cannot open the SQLite database at \(path) for reading: \(message)")
        }
        self.handle = handle
        sqlite_nio_sqlite3_busy_timeout(handle, 5000)
        guard sqlite_nio_sqlite3_exec(handle, "PRAGMA query_only = ON", nil, nil, nil) == SQLITE_OK else {
            sqlite_nio_sqlite3_close_v2(handle)
            throw DatabaseSetupError("Cannot make the SQLite reader read-only.")
        }
    }

    deinit {
        for prepared in self.statements.values { sqlite_nio_sqlite3_finalize(prepared.statement) }
        sqlite_nio_sqlite3_close_v2(self.handle)
    }

    /// Runs `sql` (its parameters `$1`, `$2`… in order) and hands each row to `row`, which reads it before returning.
    func query(_ sql: String, _ binds: [Bind], row: (SQLiteColumns) throws -> Void) throws {
        var prepared = try self.prepared(sql)
        let statement = prepared.statement
        defer { sqlite_nio_sqlite3_reset(statement) }
        if prepared.bound.count != binds.count { prepared.bound = Array(repeating: nil, count: binds.count) }
        for (offset, bind) in binds.enumerated() where prepared.bound[offset] != bind {
            let index = Int32(offset + 1)
            let status =
                switch bind {
                case .text(let text): sqlite_nio_sqlite3_bind_text64(statement, index, text, UInt64(text.utf8.count), Self.transient, UInt8(SQLITE_UTF8))
                case .integer(let value): sqlite_nio_sqlite3_bind_int64(statement, index, value)
                }
            prepared.bound[offset] = status == SQLITE_OK ? bind : nil
            self.statements[sql] = prepared
            try self.check(status)
        }
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { return try self.check(status) }
            try row(SQLiteColumns(statement: statement))
        }
    }

    private func prepared(_ sql: String) throws -> Prepared {
        if let prepared = self.statements[sql] { return prepared }
        var statement: OpaquePointer?
        try self.check(sqlite_nio_sqlite3_prepare_v3(self.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil))
        guard let statement else { throw DatabaseSetupError("SQLite prepared no statement for: \(sql)") }
        let prepared = Prepared(statement: statement, bound: [])
        self.statements[sql] = prepared
        return prepared
    }

    private func check(_ status: Int32) throws {
        guard status != SQLITE_OK else { return }
        throw SQLiteReadError(status: status, message: String(cString: sqlite_nio_sqlite3_errmsg(self.handle)))
    }

    /// SQLite copies a bound text before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// An SQLite error on the fast read path.
struct SQLiteReadError: Error, CustomStringConvertible {
    let status: Int32
    let message: String
    var description: String { "SQLite error \(self.status): \(self.message)" }
}

/// The current row of an SQLite statement, by column position, decoded as SQLiteKit stores values: UUIDs as text,
/// timestamps as seconds since 1970 (rounded to the microsecond, as SQLiteNIO rounds them).
struct SQLiteColumns: ColumnReader {
    let statement: OpaquePointer

    func isNull(_ index: Int) -> Bool {
        sqlite_nio_sqlite3_column_type(self.statement, Int32(index)) == SQLITE_NULL
    }

    func optionalText(_ index: Int) throws -> String? {
        guard let bytes = sqlite_nio_sqlite3_column_text(self.statement, Int32(index)) else { return nil }
        let count = Int(sqlite_nio_sqlite3_column_bytes(self.statement, Int32(index)))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func optionalUUID(_ index: Int) throws -> UUID? {
        guard let bytes = sqlite_nio_sqlite3_column_text(self.statement, Int32(index)) else { return nil }
        let count = Int(sqlite_nio_sqlite3_column_bytes(self.statement, Int32(index)))
        guard let uuid = UUID(text: UnsafeBufferPointer(start: bytes, count: count)) else {
            throw StoredValueError(column: "#\(index)", value: try self.optionalText(index) ?? "")
        }
        return uuid
    }

    func optionalDate(_ index: Int) throws -> Date? {
        guard !self.isNull(index) else { return nil }
        let seconds = sqlite_nio_sqlite3_column_double(self.statement, Int32(index))
        return Date(timeIntervalSinceReferenceDate: ((seconds - Date.timeIntervalBetween1970AndReferenceDate) * 1e6).rounded() / 1e6)
    }

    func optionalInt(_ index: Int) throws -> Int? {
        self.isNull(index) ? nil : Int(sqlite_nio_sqlite3_column_int64(self.statement, Int32(index)))
    }

    func double(_ index: Int) throws -> Double {
        sqlite_nio_sqlite3_column_double(self.statement, Int32(index))
    }

    func bool(_ index: Int) throws -> Bool {
        sqlite_nio_sqlite3_column_int64(self.statement, Int32(index)) != 0
    }
}

extension UUID {
    /// Parses the 36-character `8-4-4-4-12` hexadecimal form (either case) without Foundation's `sscanf`.
    init?(text: UnsafeBufferPointer<UInt8>) {
        guard text.count == 36, text[8] == UInt8(ascii: "-"), text[13] == UInt8(ascii: "-"), text[18] == UInt8(ascii: "-"),
              text[23] == UInt8(ascii: "-")
        else { return nil }
        func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var position = 0
        let parsed = withUnsafeMutableBytes(of: &bytes) { out -> Bool in
            for index in 0..<16 {
                if position == 8 || position == 13 || position == 18 || position == 23 { position += 1 }
                guard let high = nibble(text[position]), let low = nibble(text[position + 1]) else { return false }
                out[index] = high << 4 | low
                position += 2
            }
            return true
        }
        guard parsed else { return nil }
        self.init(uuid: bytes)
    }
}
