import Foundation

/// A limit: at most `count` events per `window` seconds (refilled continuously, token-bucket style).
public struct RateLimit: Sendable, Equatable {
    public var count: Int
    public var window: TimeInterval

    public init(count: Int, per window: TimeInterval) {
        self.count = count
        self.window = window
    }
}

/// In-memory token buckets keyed by strings such as `login-ip:203.0.113.9`.
///
/// Per process: with several nodes each enforces its own budget, which still bounds guessing.
public actor RateLimiter {
    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    private var buckets: [String: Bucket] = [:]
    private let maxKeys: Int

    public init(maxKeys: Int = 100_000) {
        self.maxKeys = maxKeys
    }

    /// Takes one token; returns nil when allowed, or the seconds to wait when the bucket is empty.
    public func consume(_ key: String, limit: RateLimit, now: Date) -> Int? {
        var bucket = self.refilled(key, limit: limit, now: now)
        guard bucket.tokens >= 1 else {
            self.buckets[key] = bucket
            return Self.wait(bucket, limit: limit)
        }
        bucket.tokens -= 1
        self.store(key, bucket)
        return nil
    }

    /// Forgets a key (e.g. failures after a successful sign-in).
    public func reset(_ key: String) {
        self.buckets[key] = nil
    }

    private func refilled(_ key: String, limit: RateLimit, now: Date) -> Bucket {
        let capacity = Double(limit.count)
        guard var bucket = self.buckets[key] else { return Bucket(tokens: capacity, updated: now) }
        let rate = capacity / max(limit.window, 0.001)
        let elapsed = max(0, now.timeIntervalSince(bucket.updated))
        bucket.tokens = min(capacity, bucket.tokens + elapsed * rate)
        bucket.updated = now
        return bucket
    }

    private static func wait(_ bucket: Bucket, limit: RateLimit) -> Int {
        let rate = Double(limit.count) / max(limit.window, 0.001)
        return max(1, Int((1 - bucket.tokens) / rate) + 1)
    }

    private func store(_ key: String, _ bucket: Bucket) {
        if self.buckets.count >= self.maxKeys, self.buckets[key] == nil {
            // step: shed the oldest half rather than grow without bound under a flood of keys
            let sorted = self.buckets.sorted { $0.value.updated < $1.value.updated }
            for (oldKey, _) in sorted.prefix(self.maxKeys / 2) { self.buckets[oldKey] = nil }
        }
        self.buckets[key] = bucket
    }
}
