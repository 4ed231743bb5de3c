import Foundation

/// An expected failure of a domain operation: what went wrong (`message`) and how to fix it (`details`).
///
/// The edge maps `kind` to an HTTP status (or a WebSocket error code); nothing else builds error bodies.
public struct DomainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure; each maps to one HTTP status.
    public enum Kind: Sendable, Equatable {
        case invalid
        case unauthorized
        case paymentRequired
        case forbidden
        case notFound
        case conflict
        case tooLarge
        case unsupportedMediaType
        case rateLimited
        case upstreamFailure
        case unavailable
    }

    public let kind: Kind
    /// Short summary, e.g. "Validation failed".
    public let message: String
    /// What exactly was wrong and what to do about it.
    public let details: String
    /// Seconds after which a rate-limited client may retry.
    public let retryAfter: Int?

    public init(_ kind: Kind, message: String, details: String, retryAfter: Int? = nil) {
        self.kind = kind
        self.message = message
        self.details = details
        self.retryAfter = retryAfter
    }

    public var description: String { "\(self.kind): \(self.message) — \(self.details)" }

    public static func invalid(_ details: String) -> DomainError {
        DomainError(.invalid, message: "Validation failed", details: details)
    }

    public static func unauthorized(_ details: String) -> DomainError {
        DomainError(.unauthorized, message: "Unauthorized", details: details)
    }

    public static func forbidden(_ details: String) -> DomainError {
        DomainError(.forbidden, message: "Forbidden", details: details)
    }

    public static func notFound(_ details: String) -> DomainError {
        DomainError(.notFound, message: "Not found", details: details)
    }

    public static func conflict(_ details: String) -> DomainError {
        DomainError(.conflict, message: "Conflict", details: details)
    }

    /// A compare-and-set write that lost: someone else changed `what` since the caller read it.
    public static func stale(_ what: String, version: Int? = nil) -> DomainError {
        let seen = version.map { " (you had version \($0))" } ?? ""
        return DomainError.conflict("The \(what) was changed by someone else since you loaded it\(seen); reload it and apply your change again.")
    }

    public static func rateLimited(retryAfter: Int, _ details: String) -> DomainError {
        DomainError(.rateLimited, message: "Too many requests", details: details, retryAfter: max(1, retryAfter))
    }

    public static func unavailable(_ details: String) -> DomainError {
        DomainError(.unavailable, message: "Service unavailable", details: details)
    }
}
