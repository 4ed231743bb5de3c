import Foundation
import SOSDomain

/// The single-node broker: every published message comes straight back to this node's subscribers.
public final class InMemoryBroker: Broker, @unchecked Sendable {
    // @unchecked: `continuations` is only touched while holding `lock`.
    private let lock = NSLock()
    private var continuations: [UUID: AsyncStream<BrokerDelivery>.Continuation] = [:]

    public init() {}

    public var reachesOtherNodes: Bool { false }

    public func post(_ message: String) {
        let targets = self.lock.withLock { Array(self.continuations.values) }
        for continuation in targets { continuation.yield(.message(message)) }
    }

    public func publish(_ message: String) async throws {
        let targets = self.lock.withLock { Array(self.continuations.values) }
        for continuation in targets { continuation.yield(.message(message)) }
    }

    public func messages() async -> AsyncStream<BrokerDelivery> {
        let (stream, continuation) = AsyncStream.makeStream(of: BrokerDelivery.self, bufferingPolicy: .unbounded)
        let id = UUID()
        self.lock.withLock { self.continuations[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            self.lock.withLock { self.continuations[id] = nil }
        }
        return stream
    }
}
