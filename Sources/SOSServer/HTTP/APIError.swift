import Foundation
import HTTPTypes
import Hummingbird
import SOSDomain

/// The one error body of the API: `{"error", "details", "status"}` (the seed's error shape).
struct ErrorBody: Codable, Sendable {
    let error: String
    let details: String
    let status: Int
}

/// An error answered over HTTP. Every non-2xx response is built from one of these, in `ErrorMiddleware`.
struct APIError: Error, HTTPResponseError, Sendable {
    let status: HTTPResponse.Status
    let error: String
    let details: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ error: String, _ details: String, headers: HTTPFields = [:]) {
        self.status = status
        self.error = error
        self.details = details
        self.headers = headers
    }

    static func badRequest(_ details: String) -> APIError {
        APIError(.badRequest, "Bad request", details)
    }

    static func unauthorized(_ details: String) -> APIError {
        APIError(.unauthorized, "Unauthorized", details, headers: [.wwwAuthenticate: "Bearer"])
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Self.render(ErrorBody(error: self.error, details: self.details, status: Int(self.status.code)), status: self.status, headers: self.headers)
    }

    static func render(_ body: ErrorBody, status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        let data = (try? JSONCoding.encoder.encode(body)) ?? Data(#"{"error":"Error","details":"","status":\#(body.status)}"#.utf8)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.contentLength] = String(data.count)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Maps any thrown error to the API error it should be answered with; `nil` for an unexpected error (500).
    static func from(_ error: any Error, request: Request) -> APIError? {
        switch error {
        case let error as APIError:
            return error
        case let error as DomainError:
            return APIError(domain: error)
        case let error as DecodingError:
            return .badRequest(Self.describe(error))
        case let error as HTTPError:
            return Self.from(http: error, request: request)
        default:
            return nil
        }
    }

    init(domain error: DomainError) {
        // step: the status comes from the table the hub's error codes come from too (`DomainError.Kind.wire`)
        let status = HTTPResponse.Status(code: error.kind.wire.status)
        var headers: HTTPFields = [:]
        if let retryAfter = error.retryAfter { headers[.retryAfter] = String(retryAfter) }
        if error.kind == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        self.init(status, error.message, error.details, headers: headers)
    }

    private static func from(http error: HTTPError, request: Request) -> APIError {
        switch error.status {
        case .notFound:
            return APIError(.notFound, "Not found", "No route for \(request.method) \(request.uri.path). The endpoints are listed in /api/v1/openapi.yaml.")
        case .contentTooLarge:
            return APIError(.contentTooLarge, "Payload too large", "The request body is larger than this endpoint accepts. Send a smaller body.")
        default:
            let reason = error.status.reasonPhrase
            return APIError(error.status, reason.isEmpty ? "Error" : reason, error.body ?? reason, headers: error.headers)
        }
    }

    /// Explains a JSON decoding failure in terms of the client's fields.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey], adding key: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (key.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "Field '\(path(context.codingPath, adding: key))' is required."
        case .valueNotFound(_, let context):
            let field = path(context.codingPath)
            return field.isEmpty ? "The request body must be a JSON object, not null." : "Field '\(field)' must not be null."
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            if field.isEmpty { return "The request body must be a JSON object." }
            return "Field '\(field)' must be \(Self.describe(type))."
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty {
                return "The request body is not valid JSON. Send a JSON object with Content-Type: application/json."
            }
            if context.debugDescription.contains("UUID") {
                return "Field '\(field)' must be a UUID such as 3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d."
            }
            return "Field '\(field)' is invalid: \(context.debugDescription)"
        @unknown default:
            return "The request body could not be read as JSON."
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean (true or false)"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type, is Decimal.Type: "a number"
        case is UUID.Type: "a UUID string"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" :
                String(describing: type).hasPrefix("Dictionary") ? "an object" : "of type \(String(describing: type))"
        }
    }
}
