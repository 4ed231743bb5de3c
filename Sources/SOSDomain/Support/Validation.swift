import Foundation

/// Input checks shared by every service, each failing with a message that says how to fix the input.
///
/// The rules match the patterns published in `protocol/openapi.yaml` character for character (lengths
/// count Unicode scalars, as JSON Schema does), so a client validating against the contract and the
/// server never disagree.
public enum Validate {
    /// Checks an email address's shape and returns it lower-cased.
    public static func email(_ raw: String, field: String = "email") throws -> String {
        guard !raw.isEmpty else { throw DomainError.invalid("'\(field)' is required.") }
        guard raw.unicodeScalars.count <= 254 else { throw DomainError.invalid("'\(field)' must be at most 254 characters.") }
        // step: work on scalars, not Characters: "@" followed by a combining mark is one Character
        let scalars = Array(raw.unicodeScalars)
        let at = scalars.firstIndex(of: "@")
        let domain = at.map { Array(scalars[($0 + 1)...]) } ?? []
        let allowed = { (scalar: Unicode.Scalar) in
            !scalar.properties.isWhitespace && !Self.isControl(scalar) && !",;<>@".unicodeScalars.contains(scalar)
        }
        guard let at, at > 0, domain.count >= 3, domain.contains("."), domain.first != ".", domain.last != ".",
              scalars[..<at].allSatisfy(allowed), domain.allSatisfy(allowed)
        else {
            throw DomainError.invalid("'\(field)' must be an email address such as name@example.com (got '\(raw.prefix(80))').")
        }
        return raw.lowercased()
    }

    /// Passwords: 8 to 72 characters; bcrypt sees longer UTF-8 forms through a SHA-256 pre-hash.
    public static func password(_ password: String, field: String = "password") throws {
        let length = password.unicodeScalars.count
        guard length >= 8 else {
            throw DomainError.invalid("'\(field)' must be at least 8 characters long.")
        }
        guard length <= 72 else {
            throw DomainError.invalid("'\(field)' must be at most 72 characters long.")
        }
    }

    /// A display name: 1–100 characters, not blank, no control characters; stored trimmed.
    public static func name(_ raw: String, field: String = "name") throws -> String {
        guard !raw.isEmpty else { throw DomainError.invalid("'\(field)' must not be empty.") }
        guard raw.unicodeScalars.count <= 100 else { throw DomainError.invalid("'\(field)' must be at most 100 characters.") }
        guard !raw.unicodeScalars.contains(where: Self.isControl) else {
            throw DomainError.invalid("'\(field)' must not contain control characters.")
        }
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw DomainError.invalid("'\(field)' must not be blank.") }
        return name
    }

    /// An E.164 phone number: `+` then 8 to 15 ASCII digits, the first not 0.
    public static func phoneE164(_ phone: String, field: String = "phone") throws -> String {
        let digits = phone.unicodeScalars.dropFirst()
        guard phone.hasPrefix("+"), (8...15).contains(digits.count),
              digits.allSatisfy({ ("0"..."9").contains($0) }), digits.first != "0"
        else {
            throw DomainError.invalid("'\(field)' must be an E.164 phone number such as +14155550123 (got '\(phone.prefix(40))').")
        }
        return phone
    }

    /// An optional phone: empty means "no phone".
    public static func optionalPhone(_ raw: String, field: String = "phone") throws -> String? {
        raw.isEmpty ? nil : try Validate.phoneE164(raw, field: field)
    }


    /// Whether JSON text escapes U+0000 (`\u0000`) inside a string: PostgreSQL text cannot hold NUL, so every
    /// edge that accepts JSON refuses it up front. An escaped backslash (`\\u0000`) is text, not NUL.
    public static func jsonHasEscapedNUL<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        var backslashes = 0
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                backslashes += 1
            } else {
                if byte == UInt8(ascii: "u"), backslashes % 2 == 1, bytes[index...].dropFirst().prefix(4).elementsEqual("0000".utf8) {
                    return true
                }
                backslashes = 0
            }
            index = bytes.index(after: index)
        }
        return false
    }

    /// Unicode general category Cc (C0 and C1 controls), the set JSON Schema patterns exclude as `\x00-\x1f\x7f-\x9f`.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
