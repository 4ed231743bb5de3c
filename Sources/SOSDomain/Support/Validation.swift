import Foundation

/// Input checks shared by every service, each failing with a message that says how to fix the input.
public enum Validate {
    /// Lower-cases and trims an email address and checks its basic shape.
    public static func email(_ raw: String, field: String = "email") throws -> String {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard !email.isEmpty else { throw DomainError.invalid("'\(field)' is required.") }
        guard email.utf8.count <= 254 else { throw DomainError.invalid("'\(field)' must be at most 254 characters.") }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
              !email.contains(where: { $0.isWhitespace || $0 == "," || $0 == ";" || $0 == "<" || $0 == ">" })
        else {
            throw DomainError.invalid("'\(field)' must be an email address such as name@example.com (got '\(raw.prefix(80))').")
        }
        return email
    }

    /// Passwords: at least 8 characters, at most 72 bytes (bcrypt ignores anything longer).
    public static func password(_ password: String, field: String = "password") throws {
        guard password.count >= 8 else {
            throw DomainError.invalid("'\(field)' must be at least 8 characters long.")
        }
        guard password.utf8.count <= 72 else {
            throw DomainError.invalid("'\(field)' must be at most 72 bytes long.")
        }
    }

    /// A display name: trimmed, 1–100 characters, no control characters.
    public static func name(_ raw: String, field: String = "name") throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw DomainError.invalid("'\(field)' must not be empty.") }
        guard name.count <= 100 else { throw DomainError.invalid("'\(field)' must be at most 100 characters.") }
        guard !name.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            throw DomainError.invalid("'\(field)' must not contain control characters.")
        }
        return name
    }

    /// An E.164 phone number: `+` then 8 to 15 digits, the first not 0.
    public static func phoneE164(_ raw: String, field: String = "phone") throws -> String {
        let phone = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        let digits = phone.dropFirst()
        guard phone.hasPrefix("+"), (8...15).contains(digits.count),
              digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0"
        else {
            throw DomainError.invalid("'\(field)' must be an E.164 phone number such as +14155550123 (got '\(raw.prefix(40))').")
        }
        return phone
    }

    /// An optional phone: empty means "no phone".
    public static func optionalPhone(_ raw: String, field: String = "phone") throws -> String? {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : try Validate.phoneE164(trimmed, field: field)
    }

    /// A URL given by a client for a picture: empty, a relative path on this server, or http(s).
    public static func pictureURL(_ raw: String, field: String = "profile_picture") throws -> String? {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return nil }
        guard trimmed.utf8.count <= 2048 else { throw DomainError.invalid("'\(field)' must be at most 2048 characters.") }
        if trimmed.hasPrefix("/") && !trimmed.hasPrefix("//") { return trimmed }
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(),
              scheme == "https" || scheme == "http", url.host != nil
        else {
            throw DomainError.invalid("'\(field)' must be an http(s) URL or a path on this server (got '\(raw.prefix(80))').")
        }
        return trimmed
    }
}
