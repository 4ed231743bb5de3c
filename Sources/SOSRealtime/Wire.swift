import Foundation
import SOSDomain

/// A client → server frame: `{"type", "id"?, "data"?}`.
struct ClientFrame {
    let type: String
    let id: String?
    let data: JSON?

    /// Parses a frame (JSONSerialization: several times faster than `Decodable` for the `JSON` enum); nil when the
    /// text is not a JSON object with a string `type` (and, if present, a string `id`).
    static func parse(_ text: String) -> ClientFrame? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], let type = object["type"] as? String else {
            return nil
        }
        let id = object["id"] as? String
        guard id != nil || object["id"] == nil || object["id"] is NSNull else { return nil }
        return ClientFrame(type: type, id: id, data: object["data"].map(JSON.init(any:)))
    }
}

/// Close codes the hub uses beyond RFC 6455's.
public enum HubCloseCode {
    /// Missing, bad, expired or revoked token; blocked or deleted account.
    public static let unauthorized: UInt16 = 4001
    /// The connection did not read fast enough; its outbound queue filled up.
    public static let slowConsumer: UInt16 = 4008
    /// RFC 6455 "going away": the server is shutting down.
    public static let goingAway: UInt16 = 1001
    /// RFC 6455 "try again later": the server is at a limit.
    public static let tryAgainLater: UInt16 = 1013
}

/// Server → client frames, built as text.
enum Frames {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()

    static func text(_ value: JSON) -> String {
        (try? String(decoding: Self.encoder.encode(value), as: UTF8.self)) ?? "null"
    }

    static func quoted(_ text: String) -> String { JSONText.quoted(text) }

    /// `{"type":"ack","id":…,"data":…}`.
    static func ack(id: String?, data: JSON) -> String {
        Self.ack(id: id, rawData: Self.text(data))
    }

    /// An ack around data already rendered as JSON text.
    static func ack(id: String?, rawData: String) -> String {
        #"{"data":\#(rawData),"id":\#(id.map(Self.quoted) ?? "null"),"type":"ack"}"#
    }

    /// `{"type":"pong","id":…,"data":{"at":…}}`, the answer to `ping`.
    static func pong(id: String?) -> String {
        #"{"data":{"at":\#(Self.quoted(ISO8601.string(Date())))},"id":\#(id.map(Self.quoted) ?? "null"),"type":"pong"}"#
    }

    /// `{"type":"error","id":…,"error":{"code","message"}}`.
    static func error(id: String?, code: String, message: String) -> String {
        #"{"error":{"code":\#(Self.quoted(code)),"message":\#(Self.quoted(message))},"id":\#(id.map(Self.quoted) ?? "null"),"type":"error"}"#
    }

    /// `{"type":…,"seq":…,"data":…}` around data rendered once for all recipients; `seq` null for ephemeral events.
    static func event(type: String, seq: Int?, renderedData: String) -> String {
        #"{"data":\#(renderedData),"seq":\#(seq.map(String.init) ?? "null"),"type":\#(Self.quoted(type))}"#
    }
}

/// Error codes sent in `error` frames.
enum HubError: Error {
    case badRequest(String)
    case unauthorized(String)
    case forbidden(String)
    case paymentRequired(String)
    case notFound(String)
    case conflict(String)
    case rateLimited(String)
    case unknownType(String)
    case serverError(String)

    var code: String {
        switch self {
        case .badRequest: "bad_request"
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .paymentRequired: "payment_required"
        case .notFound: "not_found"
        case .conflict: "conflict"
        case .rateLimited: "rate_limited"
        case .unknownType: "unknown_type"
        case .serverError: "server_error"
        }
    }

    var message: String {
        switch self {
        case .badRequest(let m), .unauthorized(let m), .forbidden(let m), .paymentRequired(let m), .notFound(let m), .conflict(let m), .rateLimited(let m),
             .unknownType(let m), .serverError(let m):
            m
        }
    }

    init(_ error: any Error) {
        guard let domain = error as? DomainError else {
            self = .serverError("The request failed unexpectedly; it has been logged.")
            return
        }
        switch domain.kind {
        case .invalid, .tooLarge, .unsupportedMediaType: self = .badRequest(domain.details)
        case .unauthorized: self = .unauthorized(domain.details)
        case .forbidden: self = .forbidden(domain.details)
        case .paymentRequired: self = .paymentRequired(domain.details)
        case .notFound: self = .notFound(domain.details)
        case .conflict: self = .conflict(domain.details)
        case .rateLimited: self = .rateLimited(domain.details)
        case .upstreamFailure, .unavailable: self = .serverError(domain.details)
        }
    }
}

extension JSON {
    /// A string field of an object.
    func string(_ key: String) -> String? {
        if case .string(let value)? = self[key] { return value }
        return nil
    }

    func uuid(_ key: String) -> UUID? { self.string(key).flatMap(UUID.init(uuidString:)) }

    func int(_ key: String) -> Int? {
        if case .number(let value)? = self[key], value == value.rounded(), abs(value) < 1e15 { return Int(value) }
        return nil
    }

    func bool(_ key: String) -> Bool? {
        if case .bool(let value)? = self[key] { return value }
        return nil
    }
}
