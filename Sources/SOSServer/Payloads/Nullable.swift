/// An optional that is always written: `null` when empty. The seed's nullable fields are present as `null`,
/// never missing (Swift's synthesized `Encodable` would leave them out).
struct Nullable<Wrapped: Encodable & Sendable>: Encodable, Sendable {
    let value: Wrapped?

    init(_ value: Wrapped?) {
        self.value = value
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value = self.value { try container.encode(value) } else { try container.encodeNil() }
    }
}

extension KeyedDecodingContainer {
    /// A field of a partial update: absent (unchanged), `null` (clear) or a value.
    func update<T: Decodable & Sendable>(_ type: T.Type, forKey key: Key) throws -> FieldUpdate<T> {
        guard self.contains(key) else { return .unchanged }
        if try self.decodeNil(forKey: key) { return .clear }
        return .set(try self.decode(T.self, forKey: key))
    }
}

import SOSDomain
