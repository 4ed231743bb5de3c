import Foundation

/// Free-form JSON carried by the API as the seed defines it (`working_hours`, `visit_location`,
/// `medications`, …): stored as text, returned exactly as sent.
public enum JSON: Codable, Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    public subscript(key: String) -> JSON? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// Compact JSON text, keys sorted (for storage).
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "null"
    }

    /// Parses stored JSON text; `nil` for NULL or unparsable text. (`JSONParser`, then `JSONSerialization` for a
    /// text it refuses; not `Decodable`: decoding this enum tries each case in turn and is several times slower on
    /// the list endpoints' hot path.)
    public static func parse(_ text: String?) -> JSON? {
        guard let text else { return nil }
        if let value = JSONParser.parse(text) { return value }
        return Self.parseWithFoundation(text)
    }

    static func parseWithFoundation(_ text: String) -> JSON? {
        guard let data = text.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        else { return nil }
        return JSON(any: object)
    }

    /// Converts a `JSONSerialization` result.
    public init(any value: Any) {
        switch value {
        case let text as String: self = .string(text)
        case let number as NSNumber:
            // step: JSONSerialization gives booleans as NSNumber too; they are instances of the boolean subclass
            self = type(of: number) == Self.booleanClass ? .bool(number.boolValue) : .number(number.doubleValue)
        case let array as [Any]: self = .array(array.map(JSON.init(any:)))
        case let object as [String: Any]: self = .object(object.mapValues(JSON.init(any:)))
        default: self = .null
        }
    }

    private static let booleanClass: AnyClass = type(of: NSNumber(value: true))

    /// The strings of a JSON array (non-strings skipped); empty for anything else.
    public var strings: [String] {
        guard case .array(let items) = self else { return [] }
        return items.compactMap { if case .string(let text) = $0 { text } else { nil } }
    }
}

/// A field in a partial update: left out, explicitly `null`, or a value. Lets `PUT` clear nullable fields.
public enum FieldUpdate<Value: Sendable>: Sendable {
    case unchanged
    case clear
    case set(Value)

    /// The new value given the current one.
    public func applied(to current: Value?) -> Value? {
        switch self {
        case .unchanged: current
        case .clear: nil
        case .set(let value): value
        }
    }

    /// Transforms a set value; `unchanged` and `clear` pass through.
    public func map<T: Sendable>(_ transform: (Value) throws -> T) rethrows -> FieldUpdate<T> {
        switch self {
        case .unchanged: .unchanged
        case .clear: .clear
        case .set(let value): .set(try transform(value))
        }
    }

    public var isUnchanged: Bool {
        if case .unchanged = self { return true }
        return false
    }
}

extension FieldUpdate: Equatable where Value: Equatable {}

/// Writes JSON string literals without `JSONEncoder` (the hub's frames and the hand-written list responses), in
/// `JSONEncoder`'s form: `"`, `\` and control characters escaped (RFC 8259 §7), `\b \f \n \r \t` short.
public enum JSONText {
    /// `"…"`.
    public static func quoted(_ text: String) -> String {
        guard text.utf8.contains(where: Self.needsEscape) else { return "\"" + text + "\"" }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 16)
        Self.appendQuoted(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `"…"` to `bytes`, copying the runs that need no escaping in one go.
    public static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(0x22)
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for (index, byte) in utf8.enumerated() where Self.needsEscape(byte) {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                Self.appendEscape(byte, to: &bytes)
                start = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(0x22)
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x22 || byte == 0x5C
    }

    private static func appendEscape(_ byte: UInt8, to bytes: inout [UInt8]) {
        switch byte {
        case 0x22: bytes += [0x5C, 0x22]
        case 0x5C: bytes += [0x5C, 0x5C]
        case 0x08: bytes += [0x5C, 0x62]
        case 0x0C: bytes += [0x5C, 0x66]
        case 0x0A: bytes += [0x5C, 0x6E]
        case 0x0D: bytes += [0x5C, 0x72]
        case 0x09: bytes += [0x5C, 0x74]
        default:
            let hex: StaticString = "0123456789abcdef"
            hex.withUTF8Buffer { digits in
                bytes += [0x5C, 0x75, 0x30, 0x30, digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
            }
        }
    }
}
