import Foundation
import SOSDomain

/// A client → server frame: `{"type", "id"?, "data"?}`.
struct ClientFrame: Equatable {
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

/// An `error` frame's code and message. Domain errors take their code from the one table they share with REST
/// (`DomainError.Kind.wire`); the hub's own refusals use the same codes.
struct HubError: Error, Equatable {
    let code: String
    let message: String
    /// True for a failure that is not a domain error (a bug, or the database gone): it is logged.
    var unexpected = false

    static func badRequest(_ message: String) -> HubError { HubError(code: "bad_request", message: message) }
    static func forbidden(_ message: String) -> HubError { HubError(code: "forbidden", message: message) }
    static func notFound(_ message: String) -> HubError { HubError(code: "not_found", message: message) }
    static func unknownType(_ message: String) -> HubError { HubError(code: "unknown_type", message: message) }
    static func unavailable(_ message: String) -> HubError { HubError(code: "unavailable", message: message) }

    init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    init(_ error: any Error) {
        if let hubError = error as? HubError {
            self = hubError
        } else if let domain = error as? DomainError {
            self.init(code: domain.kind.wire.code, message: domain.details)
        } else {
            self.init(code: "server_error", message: "The request failed unexpectedly; it has been logged.")
            self.unexpected = true
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

    func number(_ key: String) -> Double? {
        if case .number(let value)? = self[key] { return value }
        return nil
    }

    func bool(_ key: String) -> Bool? {
        if case .bool(let value)? = self[key] { return value }
        return nil
    }
}

/// ISO 8601 UTC timestamps with milliseconds, as the REST API writes them.
enum ISO8601 {
    static func string(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
