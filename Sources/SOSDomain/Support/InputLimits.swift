import Foundation

/// The size of every free-form input, in one place. Each limit is documented in `protocol/openapi.yaml`
/// (`maxLength`, `maxItems`, or the description for free-form JSON); exceeding one is a 400 that names the
/// field and the limit. Together with `SOS_MAX_BODY_BYTES` they bound what any client can make the server keep.
public enum InputLimits {
    /// Characters of a short label (titles, names of things).
    public static let title = 200
    /// Characters of a short free text (reasons, comments, addresses).
    public static let shortText = 500
    /// Characters of a note a patient writes (`additional_note`).
    public static let note = 5000
    /// Characters of a rating's comment.
    public static let comment = 2000
    /// Characters of a doctor's bio, and of a specialisation.
    public static let bio = 5000
    public static let specialisation = 100
    /// Languages a doctor lists.
    public static let languages = 20
    /// Characters of a chat message, and of its `client_msg_id`.
    public static let chatMessage = 4000
    public static let clientMessageId = 100
    /// Characters of a URL a client passes on (a payment's `returnUrl`), and bytes of a provider payload.
    public static let url = 2048
    public static let providerPayloadBytes = 2048
    /// Characters of a doctor's text in a record (`description`, `diagnosis`, `notes`) or a bio.
    public static let clinicalText = 20_000
    /// Symptoms per appointment, and characters per symptom.
    public static let symptoms = 30
    public static let symptomLength = 200
    /// Encoded bytes of free-form JSON fields.
    public static let visitLocationBytes = 2048
    public static let workingHoursBytes = 4096
    public static let medicationsBytes = 16_384
    public static let labResultsBytes = 65_536
    public static let attachmentsJSONBytes = 16_384
    /// Nesting depth of any free-form JSON value.
    public static let jsonDepth = 8

    /// A free-form JSON value within `maxBytes` (its compact encoding) and `jsonDepth`, or a 400 naming the field.
    public static func json(_ value: JSON?, field: String, maxBytes: Int) throws -> JSON? {
        guard let value else { return nil }
        guard value.depth <= Self.jsonDepth else {
            throw DomainError.invalid("'\(field)' may nest at most \(Self.jsonDepth) levels deep.")
        }
        let bytes = value.text.utf8.count
        guard bytes <= maxBytes else {
            throw DomainError.invalid("'\(field)' must be at most \(maxBytes) bytes of JSON (got \(bytes)).")
        }
        return value
    }

    /// `visit_location`: where a home or hotel visit happens (free-form; an address object or a string).
    public static func visitLocation(_ value: JSON?) throws -> JSON? {
        try Self.json(value == .null ? nil : value, field: "visit_location", maxBytes: Self.visitLocationBytes)
    }

    /// Optional text of at most `limit` characters, or a 400 naming the field.
    public static func text(_ value: String?, field: String, limit: Int) throws -> String? {
        guard let value else { return nil }
        guard value.count <= limit else { throw DomainError.invalid("'\(field)' must be at most \(limit) characters (got \(value.count)).") }
        try Self.storable(value, field: field)
        return value
    }

    /// PostgreSQL text cannot hold NUL: refused with a 400 (REST) or `bad_request` (hub) that names the field.
    public static func storable(_ value: String, field: String) throws {
        guard !value.unicodeScalars.contains("\u{0}") else {
            throw DomainError.invalid("'\(field)' contains a NUL character (U+0000); remove it.")
        }
    }
}

extension JSON {
    /// How deeply arrays and objects nest (a scalar is 0).
    public var depth: Int {
        switch self {
        case .array(let items): 1 + (items.map(\.depth).max() ?? 0)
        case .object(let members): 1 + (members.values.map(\.depth).max() ?? 0)
        default: 0
        }
    }
}
