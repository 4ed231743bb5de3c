import Foundation
import Hummingbird
import SOSDomain

/// Reads one file field from a `multipart/form-data` body (RFC 7578), size-limited.
///
/// Hand-written on purpose: MultipartKit 4.7.1's parser traps (index out of range) on a header name with a
/// byte ≥ 0x80, so any client could crash the server with one request. This parser treats every byte as
/// untrusted and answers malformed bodies with 400.
enum MultipartForm {
    struct Part {
        var headers: [(name: String, value: String)]
        var body: [UInt8]
    }

    /// The part named `field`: its file name and bytes. 400 when the body is not multipart or lacks the field.
    static func file(named field: String, from request: Request, maxBytes: Int) async throws -> UploadedFile {
        guard let contentType = request.headers[.contentType], contentType.lowercased().hasPrefix("multipart/form-data"),
              let boundary = Self.boundary(contentType)
        else {
            throw APIError(.unsupportedMediaType, "Unsupported media type", "Send the file as multipart/form-data with a part named '\(field)'.")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBytes + 64 * 1024)
        } catch {
            throw APIError(.contentTooLarge, "Payload too large", "The file is larger than \(maxBytes >> 20) MB.")
        }
        guard let parts = Self.parse(Array(body.readableBytesView), boundary: boundary) else {
            throw APIError.badRequest("The multipart body is malformed; send multipart/form-data with a part named '\(field)'.")
        }
        for part in parts {
            guard let disposition = part.headers.first(where: { $0.name.lowercased() == "content-disposition" })?.value,
                  Self.parameter("name", in: disposition) == field
            else { continue }
            return UploadedFile(fileName: Self.parameter("filename", in: disposition) ?? "", bytes: part.body)
        }
        throw APIError.badRequest("The multipart body has no part named '\(field)'.")
    }

    /// Splits a body into parts; nil if it does not follow the multipart syntax.
    static func parse(_ bytes: [UInt8], boundary: String) -> [Part]? {
        let delimiter = Array("--\(boundary)".utf8)
        let crlf: [UInt8] = [13, 10]
        guard var cursor = bytes.firstRange(of: delimiter)?.upperBound else { return nil }
        var parts: [Part] = []
        while true {
            // after a delimiter: "--" ends the body, CRLF starts a part
            if bytes[cursor...].starts(with: [45, 45]) { return parts }
            guard bytes[cursor...].starts(with: crlf) else { return nil }
            cursor += 2
            guard let headerEnd = bytes[cursor...].firstRange(of: crlf + crlf) else { return nil }
            var headers: [(String, String)] = []
            if headerEnd.lowerBound > cursor {
                for line in bytes[cursor..<headerEnd.lowerBound].split(separator: 13, omittingEmptySubsequences: true) {
                    let line = line.first == 10 ? line.dropFirst() : line[...]
                    guard line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F || $0 == 9 }), let colon = line.firstIndex(of: 58) else { return nil }
                    let name = String(decoding: line[..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                    let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                    guard !name.isEmpty else { return nil }
                    headers.append((name, value))
                }
            }
            cursor = headerEnd.upperBound
            guard let next = bytes[cursor...].firstRange(of: crlf + delimiter) else { return nil }
            parts.append(Part(headers: headers, body: Array(bytes[cursor..<next.lowerBound])))
            cursor = next.upperBound
        }
    }

    static func boundary(_ contentType: String) -> String? {
        guard let value = Self.parameter("boundary", in: contentType), (1...70).contains(value.count) else { return nil }
        return value
    }

    /// A `name=value` (or `name="value"`) parameter of a header value.
    static func parameter(_ name: String, in header: String) -> String? {
        for item in header.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }
}
