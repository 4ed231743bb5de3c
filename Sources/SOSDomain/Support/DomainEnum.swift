/// A closed set of string values exchanged with clients (roles, statuses, …).
///
/// Decoding an unknown value fails with a message that lists the accepted values, so a client
/// sending `"role": "root"` learns what it may send instead.
public protocol DomainEnum: RawRepresentable, CaseIterable, Codable, Sendable, Hashable where RawValue == String {}

extension DomainEnum {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Self(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "Unknown value '\(raw)'; expected one of: \(Self.allowedValues)"
            )
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }

    /// The accepted values, comma separated, for error messages.
    public static var allowedValues: String {
        Self.allCases.map(\.rawValue).joined(separator: ", ")
    }

    /// Parses a query-parameter value, failing with a message naming the parameter and the accepted values.
    public static func parse(_ raw: String, field: String) throws -> Self {
        guard let value = Self(rawValue: raw) else {
            throw DomainError.invalid("'\(field)' must be one of: \(Self.allowedValues) (got '\(raw)').")
        }
        return value
    }
}
