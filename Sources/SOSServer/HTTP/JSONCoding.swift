import Foundation
import Hummingbird
import NIOCore
import SOSDomain

/// Shared JSON coders: timestamps as ISO 8601 UTC with milliseconds (`2026-11-25T09:30:00.000Z`).
enum JSONCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.string(from: date))
        }
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()

    /// Decodes a request body; a decoding failure becomes a 400 that names the field.
    static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        guard !Validate.jsonHasEscapedNUL(buffer.readableBytesView) else {
            throw APIError.badRequest("The body contains a NUL character (\\u0000) in a string; remove it.")
        }
        do {
            return try Self.decoder.decode(T.self, from: buffer)
        } catch let error as DecodingError {
            throw APIError.badRequest(APIError.describe(error))
        }
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.date(from: text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an ISO 8601 timestamp such as 2026-11-25T09:30:00.000Z")
            }
            return date
        }
        return decoder
    }()
}

/// Formats and parses the API's timestamps.
enum Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC.
    static func string(from date: Date) -> String {
        // step: to the nearest millisecond, so a time read back from storage (seconds as a double) prints as it was written
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = time_t(millis >= 0 ? millis / 1000 : (millis - 999) / 1000)
        let ms = Int(millis - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return Digits.padded(Int(parts.tm_year) + 1900, 4) + "-" + Digits.padded(Int(parts.tm_mon) + 1, 2) + "-"
            + Digits.padded(Int(parts.tm_mday), 2) + "T" + Digits.padded(Int(parts.tm_hour), 2) + ":" + Digits.padded(Int(parts.tm_min), 2)
            + ":" + Digits.padded(Int(parts.tm_sec), 2) + "." + Digits.padded(ms, 3) + "Z"
    }

    /// Parses ISO 8601 with or without fractional seconds.
    static func date(from text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withFraction.date(from: text) { return date }
        return ISO8601DateFormatter().date(from: text)
    }
}

/// Decodes JSON request bodies: size-limited, and with errors that name the offending field.
public struct APIRequestDecoder: RequestDecoder {
    let maxBytes: Int

    public init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        if let contentType = request.headers[.contentType]?.lowercased(),
           !contentType.hasPrefix("application/json"), !contentType.contains("+json") {
            throw APIError(.unsupportedMediaType, "Unsupported media type", "Send the body as JSON with Content-Type: application/json (got '\(contentType)').")
        }
        let tooLarge = APIError(.contentTooLarge, "Payload too large", "The request body is larger than \(self.maxBytes) bytes. Send a smaller body.")
        // step: a declared length over the limit is refused before any of the body is read (a client announcing 1 GB
        // gets its answer at once instead of after the body timeout)
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > self.maxBytes { throw tooLarge }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: self.maxBytes)
        } catch {
            throw tooLarge
        }
        guard buffer.readableBytes > 0 else {
            throw APIError.badRequest("The request body is empty. Send a JSON object with Content-Type: application/json.")
        }
        return try JSONCoding.decode(T.self, from: buffer)
    }
}

/// Encodes responses with the shared encoder.
public struct APIResponseEncoder: ResponseEncoder {
    public init() {}

    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        let buffer: ByteBuffer
        if let writable = value as? any JSONWritable, let bytes = writable.jsonBytes {
            buffer = ByteBuffer(bytes: bytes)
        } else {
            buffer = ByteBuffer(bytes: try JSONCoding.encoder.encode(value))
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(buffer.readableBytes)],
            body: .init(byteBuffer: buffer)
        )
    }
}
