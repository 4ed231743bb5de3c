import HTTPTypes
import Hummingbird

/// Compare-and-set over HTTP: a versioned object's `ETag` is its version (`"7"`); a write may send it back as
/// `If-Match: "7"` (or the body's `version`) and gets 409 when the object changed meanwhile. A write without
/// either (or with `If-Match: *`) is still compare-and-set on the version the server read just before writing.
enum Versioning {
    static func etag(_ version: Int) -> String { "\"\(version)\"" }

    /// The version a write expects: `If-Match` when sent (it wins), else the body's `version`.
    static func expected(_ request: Request, body: Int?) throws -> Int? {
        guard let header = request.headers[.ifMatch]?.trimmingCharacters(in: .whitespaces) else { return body }
        // step: `*` matches any stored version (RFC 9110), i.e. the usual compare-and-set on what was read
        if header == "*" { return body }
        let tag = header.hasPrefix("W/") ? String(header.dropFirst(2)) : header
        guard tag.count >= 3, tag.hasPrefix("\""), tag.hasSuffix("\""), let version = Int(tag.dropFirst().dropLast()), version >= 0 else {
            throw APIError.badRequest("'If-Match' must be the ETag you received, e.g. If-Match: \"3\" (got '\(header.prefix(40))').")
        }
        return version
    }
}

extension HTTPField.Name {
    /// `Idempotency-Key` on `POST /appointments` and `POST /payments` (`IdempotencyKey`).
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}
