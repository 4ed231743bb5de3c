import Foundation
import SQLKit

extension SQLRow {
    /// Decodes a column, naming the column when the stored value has the wrong type.
    func value<T: Decodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self.decode(column: column, as: T.self)
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
