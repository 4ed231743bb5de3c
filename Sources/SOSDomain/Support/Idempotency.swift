import Foundation

/// A client's `Idempotency-Key` on a creating request (`POST /appointments`, `POST /payments`), as Stripe has it: the
/// first request with a key creates; a retry with the same key and the same request gets what the first created (even
/// after a crash or a lost answer), never a second one; the same key with a different request is refused.
///
/// The key is stored in the transaction that stores the resource, so "acknowledged" and "key recorded" are one fact.
/// Keys are per caller and kept for `IdempotencyKey.retention`.
public struct IdempotencyKey: Sendable, Equatable {
    public let owner: UUID
    public let key: String
    /// The operation the key was used for, e.g. "POST /api/v1/appointments".
    public let endpoint: String
    /// A digest of the request's values: a reused key must come with the same request.
    public let fingerprint: String

    public static let retention: TimeInterval = 24 * 3600
    public static let maxLength = 255

    /// `request` is the decoded input of the call; its canonical text is digested.
    public init(_ key: String, owner: UUID, endpoint: String, request: some IdempotentRequest) throws {
        guard !key.isEmpty, key.utf8.count <= Self.maxLength, key.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value <= 0x7E }) else {
            throw DomainError.invalid("The Idempotency-Key header must be 1–\(Self.maxLength) visible ASCII characters (a UUID is a good key); got \(key.utf8.count) bytes.")
        }
        self.owner = owner
        self.key = key
        self.endpoint = endpoint
        self.fingerprint = Self.digest("\(endpoint)\n\(request.canonicalText)")
    }

    /// The id of what an earlier request with this key created, or nil when the key is new; throws when the key was
    /// used for another request.
    public func earlier(in store: any IdempotencyStore) async throws -> UUID? {
        guard let record = try await store.idempotencyRecord(owner: self.owner, key: self.key) else { return nil }
        guard record.endpoint == self.endpoint, record.fingerprint == self.fingerprint else {
            throw DomainError.conflict("Idempotency-Key '\(self.key)' was already used for a different request (\(record.endpoint)); send a new key for a new request, or repeat the original request exactly.")
        }
        return record.resourceId
    }

    /// 64-bit FNV-1a, hex: enough to tell a different request from a retry.
    static func digest(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

/// A creating request that can carry an Idempotency-Key.
public protocol IdempotentRequest {
    /// Every value of the request in a fixed order (objects with sorted keys): equal for a faithful retry, even in
    /// another process.
    var canonicalText: String { get }
}

/// What a stored key says: what it was used for and what that created.
public struct IdempotencyRecord: Sendable, Equatable {
    public let endpoint: String
    public let fingerprint: String
    public let resourceId: UUID

    public init(endpoint: String, fingerprint: String, resourceId: UUID) {
        self.endpoint = endpoint
        self.fingerprint = fingerprint
        self.resourceId = resourceId
    }
}

/// Looks up stored idempotency keys (the repositories that create resources with them).
public protocol IdempotencyStore: Sendable {
    func idempotencyRecord(owner: UUID, key: String) async throws -> IdempotencyRecord?
}
