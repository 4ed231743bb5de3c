import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback TCP proxy in front of a server (the test PostgreSQL) that a test can cut, closing every connection through
/// it and resetting new ones as a lost server would, and restore. The listener stays bound throughout, so no other test
/// running in parallel can take its port while it is cut.
final class TCPProxy: Sendable {
    let port: Int
    private let target: Int
    private let channels = NIOLockedValueBox<(cut: Bool, listener: (any Channel)?, open: [ObjectIdentifier: any Channel])>((false, nil, [:]))

    private init(port: Int, target: Int) {
        self.port = port
        self.target = target
    }

    /// A loopback port nothing listens on (it was free a moment ago).
    static func freePort() async throws -> Int {
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = probe.localAddress?.port ?? 0
        try await probe.close()
        return port
    }

    /// Listens on a free loopback port and forwards every connection to `target` on loopback.
    static func start(to target: Int) async throws -> TCPProxy {
        try await Self.listen(to: target)
    }

    /// Closes every proxied connection; new ones are closed as soon as they are accepted until `restore()`.
    func cut() async {
        let open = self.channels.withLockedValue { state in
            state.cut = true
            defer { state.open = [:] }
            return Array(state.open.values)
        }
        for channel in open { try? await channel.close() }
    }

    /// Forwards new connections again.
    func restore() {
        self.channels.withLockedValue { $0.cut = false }
    }

    /// Stops listening (end of the test).
    func stop() async {
        await self.cut()
        let listener = self.channels.withLockedValue { $0.listener }
        try? await listener?.close()
    }

    private static func listen(to target: Int) async throws -> TCPProxy {
        let holder = NIOLockedValueBox<TCPProxy?>(nil)
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                guard let proxy = holder.withLockedValue({ $0 }), !proxy.channels.withLockedValue({ $0.cut }) else {
                    return inbound.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }
                return ClientBootstrap(group: inbound.eventLoop)
                    .channelInitializer { outbound in outbound.pipeline.addHandler(Glue(partner: inbound)) }
                    .connect(host: "127.0.0.1", port: target)
                    .flatMap { outbound in
                        guard proxy.track(inbound), proxy.track(outbound) else {
                            outbound.close(promise: nil)
                            return inbound.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                        }
                        return inbound.pipeline.addHandler(Glue(partner: outbound)).flatMap { inbound.setOption(.autoRead, value: true) }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let proxy = TCPProxy(port: listener.localAddress?.port ?? 0, target: target)
        proxy.channels.withLockedValue { $0.listener = listener }
        holder.withLockedValue { $0 = proxy }
        return proxy
    }

    /// Remembers an open connection for `cut()`; false (and not kept) when the proxy was cut meanwhile.
    private func track(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let kept = self.channels.withLockedValue { state in
            if state.cut { return false }
            state.open[id] = channel
            return true
        }
        if kept { channel.closeFuture.whenComplete { _ in _ = self.channels.withLockedValue { $0.open.removeValue(forKey: id) } } }
        return kept
    }

    /// Copies bytes to the other side and closes it when this side closes.
    private final class Glue: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let partner: any Channel

        init(partner: any Channel) { self.partner = partner }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.partner.writeAndFlush(self.unwrapInboundIn(data), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.partner.close(promise: nil)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
