/// A strict JSON text parser (RFC 8259) straight into `JSON`, for stored JSON read on every list request (symptoms,
/// visit locations, working hours): `JSONSerialization` builds Foundation objects first and bridges each one back.
///
/// `JSON.parse` falls back to `JSONSerialization` when this parser refuses a text, so a text it does not know
/// still reads as before; `JSONParserTests` checks both agree.
struct JSONParser {
    private let bytes: [UInt8]
    private var position = 0

    /// The value `text` spells, or nil when it is not one JSON value (whitespace around it allowed).
    static func parse(_ text: String) -> JSON? {
        var parser = JSONParser(bytes: Array(text.utf8))
        guard let value = parser.value(depth: 0) else { return nil }
        parser.skipSpace()
        return parser.position == parser.bytes.count ? value : nil
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private var current: UInt8? { self.position < self.bytes.count ? self.bytes[self.position] : nil }

    private mutating func skipSpace() {
        while let byte = self.current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { self.position += 1 }
    }

    private mutating func literal(_ word: String, _ value: JSON) -> JSON? {
        for byte in word.utf8 {
            guard self.current == byte else { return nil }
            self.position += 1
        }
        return value
    }

    private mutating func value(depth: Int) -> JSON? {
        guard depth < 512 else { return nil }
        self.skipSpace()
        switch self.current {
        case UInt8(ascii: "{"): return self.object(depth: depth)
        case UInt8(ascii: "["): return self.array(depth: depth)
        case UInt8(ascii: "\""): return self.string().map(JSON.string)
        case UInt8(ascii: "t"): return self.literal("true", .bool(true))
        case UInt8(ascii: "f"): return self.literal("false", .bool(false))
        case UInt8(ascii: "n"): return self.literal("null", .null)
        case .some: return self.number()
        case nil: return nil
        }
    }

    private mutating func array(depth: Int) -> JSON? {
        self.position += 1
        var items: [JSON] = []
        self.skipSpace()
        if self.current == UInt8(ascii: "]") {
            self.position += 1
            return .array(items)
        }
        while true {
            guard let item = self.value(depth: depth + 1) else { return nil }
            items.append(item)
            self.skipSpace()
            switch self.current {
            case UInt8(ascii: ","): self.position += 1
            case UInt8(ascii: "]"):
                self.position += 1
                return .array(items)
            default: return nil
            }
        }
    }

    private mutating func object(depth: Int) -> JSON? {
        self.position += 1
        var members: [String: JSON] = [:]
        self.skipSpace()
        if self.current == UInt8(ascii: "}") {
            self.position += 1
            return .object(members)
        }
        while true {
            self.skipSpace()
            guard self.current == UInt8(ascii: "\""), let key = self.string() else { return nil }
            self.skipSpace()
            guard self.current == UInt8(ascii: ":") else { return nil }
            self.position += 1
            guard let value = self.value(depth: depth + 1) else { return nil }
            members[key] = value
            self.skipSpace()
            switch self.current {
            case UInt8(ascii: ","): self.position += 1
            case UInt8(ascii: "}"):
                self.position += 1
                return .object(members)
            default: return nil
            }
        }
    }

    /// A string from its opening quote; escapes decoded, unescaped control characters refused.
    private mutating func string() -> String? {
        self.position += 1
        var text: [UInt8] = []
        while let byte = self.current {
            self.position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: text, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escaped = self.current else { return nil }
                self.position += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = self.unicodeEscape() else { return nil }
                    text.append(contentsOf: String(Character(scalar)).utf8)
                default: return nil
                }
            case 0..<0x20: return nil
            default: text.append(byte)
            }
        }
        return nil
    }

    /// The scalar of `\uXXXX` (after the `u`), joining a surrogate pair written as two escapes.
    private mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let high = self.hex4() else { return nil }
        guard (0xD800..<0xDC00).contains(high) else { return Unicode.Scalar(high) }
        guard self.current == UInt8(ascii: "\\") else { return nil }
        self.position += 1
        guard self.current == UInt8(ascii: "u") else { return nil }
        self.position += 1
        guard let low = self.hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
        return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    }

    private mutating func hex4() -> UInt32? {
        guard self.position + 4 <= self.bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = self.bytes[self.position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            self.position += 1
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, as a double.
    private mutating func number() -> JSON? {
        let start = self.position
        func digits(_ parser: inout JSONParser) -> Int {
            let from = parser.position
            while let byte = parser.current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { parser.position += 1 }
            return parser.position - from
        }
        if self.current == UInt8(ascii: "-") { self.position += 1 }
        if self.current == UInt8(ascii: "0") {
            self.position += 1
        } else if digits(&self) == 0 {
            return nil
        }
        if self.current == UInt8(ascii: ".") {
            self.position += 1
            guard digits(&self) > 0 else { return nil }
        }
        if self.current == UInt8(ascii: "e") || self.current == UInt8(ascii: "E") {
            self.position += 1
            if self.current == UInt8(ascii: "+") || self.current == UInt8(ascii: "-") { self.position += 1 }
            guard digits(&self) > 0 else { return nil }
        }
        guard let value = Double(String(decoding: self.bytes[start..<self.position], as: UTF8.self)), value.isFinite else { return nil }
        return .number(value)
    }
}
