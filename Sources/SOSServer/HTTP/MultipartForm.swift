import Foundation
import Hummingbird
import MultipartKit
import SOSDomain

/// Reads one file field from a `multipart/form-data` body, size-limited.
enum MultipartForm {
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
        var parts: [(headers: [(String, String)], body: [UInt8])] = []
        var headers: [(String, String)] = []
        var bytes: [UInt8] = []
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in headers.append((name, value)) }
        parser.onBody = { buffer in bytes.append(contentsOf: buffer.readableBytesView) }
        parser.onPartComplete = {
            parts.append((headers, bytes))
            headers = []
            bytes = []
        }
        do {
            try parser.execute(body)
        } catch {
            throw APIError.badRequest("The multipart body is malformed; send multipart/form-data with a part named '\(field)'.")
        }
        for part in parts {
            guard let disposition = part.headers.first(where: { $0.0.lowercased() == "content-disposition" })?.1,
                  Self.parameter("name", in: disposition) == field
            else { continue }
            return UploadedFile(fileName: Self.parameter("filename", in: disposition) ?? "", bytes: part.body)
        }
        throw APIError.badRequest("The multipart body has no part named '\(field)'.")
    }

    static func boundary(_ contentType: String) -> String? {
        Self.parameter("boundary", in: contentType).flatMap { $0.isEmpty ? nil : $0 }
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
