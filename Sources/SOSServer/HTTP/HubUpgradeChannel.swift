import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// HTTP/1.1 with the WebSocket upgrade on the same port and the same REST router, after Hummingbird's
/// `HTTP1WebSocketUpgradeChannel` — but an upgraded socket is served by channel handlers (`HubWebSocketUpgrader`), so
/// its connection task ends at once instead of waiting on an `NIOAsyncChannel` for the socket's whole life: an idle
/// WebSocket holds no task. Plain requests go to the router as before, behind `http1`'s handlers (`ConnectionGuard`,
/// the idle timeout).
struct HubUpgradeChannel: ServerChildChannel, HTTPChannelHandler {
    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<HubUpgradeResult>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let http1: HTTP1Channel.Configuration
    let endpoints: WebSocketEndpoints

    init(responder: @escaping HTTPChannelHandler.Responder, http1: HTTP1Channel.Configuration, endpoints: WebSocketEndpoints) {
        self.responder = Self.redirectingLateUpgrades(responder)
        self.http1 = http1
        self.endpoints = endpoints
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let attempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let upgrader = HubWebSocketUpgrader(endpoints: self.endpoints, attempted: { attempted.value = true })
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration<HubUpgradeResult>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandlers(self.http1.additionalChannelHandlers())
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(
                            idleTimeout: self.http1.idleTimeout.map { .nanoseconds($0.nanoseconds) }, logger: logger
                        ))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        return attempted.value ? .failedUpgrade(http) : .notUpgraded(http)
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<HubUpgradeResult>(upgradeConfiguration: upgrades)
            configuration.enablePipelining = false  // step: HTTP is pipelined by NIOAsyncChannel
            configuration.enableErrorHandling = false  // step: Hummingbird answers errors
            configuration.enableResponseHeaderValidation = false  // step: swift-http-types validates headers already
            configuration.decoderConfiguration.maxHeaderFieldSize = self.http1.httpDecoder.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = self.http1.httpDecoder.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = self.http1.httpDecoder.maxHeaderFieldCount
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(upgradeResult: result, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .websocket:
                // step: the channel handlers serve the socket from here on; nothing waits on it
                return
            case .notUpgraded(let http):
                await self.handleHTTP(asyncChannel: http, logger: logger)
            case .failedUpgrade(let http):
                try await http.executeThenClose { _, outbound in
                    try await outbound.write(contentsOf: [
                        .head(HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])), .end(nil),
                    ])
                }
            }
        } catch {
            logger.debug("Connection ended during the upgrade", metadata: ["error": "\(error)"])
        }
    }

    /// NIO upgrades only a connection's first request: a later upgrade request on a kept-alive connection is sent
    /// to the same path on a new connection (307 and close), as Hummingbird does.
    static func redirectingLateUpgrades(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        struct RedirectClose: Error {}
        return { request, writer, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else { return try await responder(request, writer, channel) }
            let location = request.uri.query.map { "\(request.uri.path)?\($0)" } ?? request.uri.path
            try await writer.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: location]))
            throw RedirectClose()
        }
    }
}
