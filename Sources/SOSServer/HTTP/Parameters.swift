import Foundation
import Hummingbird
import SOSDomain

extension RequestContext {
    /// A UUID path parameter, or 400 naming the parameter.
    func uuid(_ name: String) throws -> UUID {
        let raw = self.parameters.get(name) ?? ""
        guard let id = UUID(uuidString: raw) else {
            throw APIError.badRequest("'\(name)' in the path must be a UUID such as 3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d (got '\(raw.prefix(60))').")
        }
        return id
    }
}

/// Typed access to query parameters; malformed values fail with 400 and say what was expected.
///
/// The query is decoded as `application/x-www-form-urlencoded`, the way browsers' `URLSearchParams` and HTML
/// forms write it: `+` is a space, `%XX` a byte of UTF-8. The first value of a repeated key wins.
struct QueryParameters {
    let values: [String: String]

    init(_ request: Request) {
        self.init(query: request.uri.query ?? "")
    }

    init(query: String) {
        var values: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.formDecoded(parts[0])
            if values[key] == nil { values[key] = parts.count > 1 ? Self.formDecoded(parts[1]) : "" }
        }
        self.values = values
    }

    /// One form-encoded component: `+` → space, then percent-decoding (kept as sent when it is not valid UTF-8).
    static func formDecoded(_ component: Substring) -> String {
        let spaced = component.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// Free text; an empty value means "not given". NUL cannot be stored or compared in PostgreSQL text, so it is
    /// refused here, as in JSON bodies.
    func string(_ name: String) throws -> String? {
        guard let value = self.values[name] else { return nil }
        guard !value.unicodeScalars.contains("\u{0}") else {
            throw APIError.badRequest("'\(name)' contains a NUL character (%00); remove it.")
        }
        return value.isEmpty ? nil : value
    }

    /// A typed value's raw text: present but empty is an error, since no integer, enum or id is empty.
    private func typed(_ name: String, expecting: @autoclosure () -> String) throws -> String? {
        guard let value = self.values[name] else { return nil }
        guard !value.isEmpty else { throw APIError.badRequest("'\(name)' is empty; send \(expecting()) or leave the parameter out.") }
        return value
    }

    func int(_ name: String) throws -> Int? {
        guard let raw = try self.typed(name, expecting: "an integer") else { return nil }
        guard let value = Int(raw) else { throw APIError.badRequest("'\(name)' must be an integer (got '\(raw.prefix(40))').") }
        return value
    }

    func double(_ name: String) throws -> Double? {
        guard let raw = try self.typed(name, expecting: "a number") else { return nil }
        guard let value = Double(raw), value.isFinite else { throw APIError.badRequest("'\(name)' must be a number (got '\(raw.prefix(40))').") }
        return value
    }

    func bool(_ name: String) throws -> Bool? {
        guard let raw = try self.typed(name, expecting: "true or false") else { return nil }
        switch raw {
        case "true": return true
        case "false": return false
        default: throw APIError.badRequest("'\(name)' must be true or false (got '\(raw.prefix(40))').")
        }
    }

    func uuid(_ name: String) throws -> UUID? {
        guard let raw = try self.typed(name, expecting: "a UUID") else { return nil }
        guard let value = UUID(uuidString: raw) else { throw APIError.badRequest("'\(name)' must be a UUID (got '\(raw.prefix(60))').") }
        return value
    }

    func `enum`<E: DomainEnum>(_ name: String, as type: E.Type) throws -> E? {
        guard let raw = try self.typed(name, expecting: "one of: \(E.allowedValues)") else { return nil }
        return try E.parse(raw, field: name)
    }

    /// A `YYYY-MM-DD` date; a full ISO 8601 timestamp is accepted and its date part used.
    func date(_ name: String) throws -> LocalDate? {
        guard let raw = try self.typed(name, expecting: "a date as YYYY-MM-DD") else { return nil }
        if let date = LocalDate(raw) { return date }
        if raw.count > 10, raw.dropFirst(10).first == "T", Timestamp.date(from: raw) != nil, let date = LocalDate(raw.prefix(10)) { return date }
        throw APIError.badRequest("'\(name)' must be a date as YYYY-MM-DD (got '\(raw.prefix(40))').")
    }

    /// `page` and `limit` as the seed defines them.
    func page(maximum: Int = PageRequest.maximumLimit, defaultLimit: Int = PageRequest.defaultLimit) throws -> PageRequest {
        try PageRequest(page: try self.int("page"), limit: try self.int("limit"), maximum: maximum, defaultLimit: defaultLimit)
    }
}
