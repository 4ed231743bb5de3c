import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL

/// How many connections the server holds and how long it waits for a slow client. Hummingbird's idle timeout
/// (`requestHeadTimeout`) closes a connection that has not sent a complete request head within that time, whether
/// it is new (a half-open request, slowloris) or idle between keep-alive requests; `ConnectionGuard` adds the caps
/// and the body deadline.
public struct ConnectionLimits: Sendable, Equatable {
    /// `SOS_MAX_CONNECTIONS`: open connections (HTTP and WebSocket) in total.
    public var maxConnections = 10_000
    /// `SOS_MAX_CONNECTIONS_PER_ADDRESS`: open connections from one client address (behind a proxy, raise it: every
    /// connection then comes from the proxy).
    public var maxConnectionsPerAddress = 256
    /// `SOS_HEADER_TIMEOUT_SECONDS`: time to send a complete request head, and the keep-alive idle time.
    public var requestHeadTimeout: TimeInterval = 15
    /// `SOS_BODY_TIMEOUT_SECONDS`: time to send a request body once its head arrived.
    public var requestBodyTimeout: TimeInterval = 60
    /// `SOS_MAX_PENDING_WEBSOCKETS`: WebSocket connections that have not authenticated yet (handshakes in progress).
    public var maxPendingWebSockets = 1_000

    public init() {}
}

/// Counts open connections per client address and in total, shared by every connection of the server.
final class ConnectionCounter: @unchecked Sendable {
    // @unchecked: `total` and `byAddress` are only touched under `lock`.
    private let lock = NSLock()
    private var total = 0
    private var byAddress: [String: Int] = [:]
    let limits: ConnectionLimits

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    /// Takes a place for a new connection; false (and nothing taken) when a cap is reached.
    func admit(_ address: String) -> Bool {
        self.lock.withLock {
            guard self.total < self.limits.maxConnections, self.byAddress[address, default: 0] < self.limits.maxConnectionsPerAddress else {
                return false
            }
            self.total += 1
            self.byAddress[address, default: 0] += 1
            return true
        }
    }

    func release(_ address: String) {
        self.lock.withLock {
            self.total -= 1
            let left = self.byAddress[address, default: 1] - 1
            self.byAddress[address] = left > 0 ? left : nil
        }
    }

    var open: Int { self.lock.withLock { self.total } }
}

/// The first handler of every connection (after TLS): admits it under the caps, closing it at once when a cap is
/// reached (its place is given back when the socket closes, whatever it became), and closes it when no complete
/// request head arrived within `requestHeadTimeout`: a half-open request or a stalled TLS handshake. The deadline
/// ends when the head arrives (`ConnectionGuard` reports it) or a response is written (a WebSocket upgrade's 101);
/// later requests on a kept-alive connection are timed by Hummingbird's idle timeout.
final class RawConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer

    let counter: ConnectionCounter
    let logger: Logger
    private var headDeadline: Scheduled<Void>?

    init(counter: ConnectionCounter, logger: Logger) {
        self.counter = counter
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard self.counter.admit(address) else {
            self.logger.debug("Connection refused: too many open connections", metadata: ["address": "\(address)"])
            context.close(promise: nil)
            return
        }
        let counter = self.counter
        context.channel.closeFuture.whenComplete { _ in counter.release(address) }
        let channel = context.channel
        self.headDeadline = context.eventLoop.scheduleTask(in: .milliseconds(Int64(self.counter.limits.requestHeadTimeout * 1000))) { [logger] in
            logger.debug("Connection closed: no complete request head in time")
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.headArrived()
    }

    /// The request head is complete (or an answer is going out): the head deadline no longer applies.
    func headArrived() {
        self.headDeadline?.cancel()
        self.headDeadline = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.headArrived()
        context.write(data, promise: promise)
    }
}

/// After HTTP decoding, on requests that are not WebSocket upgrades: ends the head deadline of
/// `RawConnectionGuard`, and closes a connection whose request body does not arrive within `requestBodyTimeout`.
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let limits: ConnectionLimits
    let logger: Logger
    private var bodyDeadline: Scheduled<Void>?

    init(limits: ConnectionLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // step: added once the first head was decoded (Hummingbird's upgrade pipeline adds HTTP handlers only then)
        (try? context.pipeline.syncOperations.handler(type: RawConnectionGuard.self))?.headArrived()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.bodyDeadline?.cancel()
        self.bodyDeadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head:
            let channel = context.channel
            self.bodyDeadline?.cancel()
            self.bodyDeadline = context.eventLoop.scheduleTask(in: .milliseconds(Int64(self.limits.requestBodyTimeout * 1000))) { [logger] in
                logger.debug("Connection closed: the request body did not arrive in time")
                channel.close(promise: nil)
            }
        case .end:
            self.bodyDeadline?.cancel()
            self.bodyDeadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }
}

/// A server child channel with `RawConnectionGuard` in front of whatever `base` sets up (TLS, HTTP, WebSocket).
struct GuardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let counter: ConnectionCounter
    let logger: Logger

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        self.base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // step: after TLS when there is TLS (it then sees the decrypted request), else first
            let position: ChannelPipeline.SynchronousOperations.Position =
                if let tls = try? channel.pipeline.syncOperations.context(handlerType: NIOSSLServerHandler.self) { .after(tls.handler) } else { .first }
            try channel.pipeline.syncOperations.addHandler(RawConnectionGuard(counter: self.counter, logger: self.logger), position: position)
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await self.base.handle(value: value, logger: logger)
    }
}
