import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOWebSocket
import SOSRealtime

/// The server's WebSocket paths and what serves each: the hub on `/api/v1/ws`, and in development the echo on
/// `/api/v1/dev/ws-echo` (the Autobahn target, with exactly the hub's WebSocket path and limits).
struct WebSocketEndpoints: Sendable {
    enum Path {
        case hub
        case echo
    }

    let hub: Hub
    let development: Bool

    func path(of head: HTTPRequestHead) -> Path? {
        switch head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" {
        case "/api/v1/ws": .hub
        case "/api/v1/dev/ws-echo" where self.development: .echo
        default: nil
        }
    }

    func makeEndpoint(_ path: Path, head: HTTPRequestHead, channel: any Channel, deflates: Bool) -> any WebSocketEndpoint {
        switch path {
        case .hub: self.hub.makeSession(on: channel.eventLoop, bearer: Self.bearer(head.headers), deflates: deflates)
        case .echo: EchoEndpoint()
        }
    }

    /// The token of an `Authorization: Bearer …` header.
    static func bearer(_ headers: HTTPHeaders) -> String? {
        guard let header = headers.first(name: "authorization") else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        return parts.count == 2 && parts[0].lowercased() == "bearer" ? String(parts[1]).trimmingCharacters(in: .whitespaces) : nil
    }
}

/// What became of a connection's first request: a WebSocket (served by channel handlers from now on), plain HTTP,
/// or a refused upgrade (answered 400).
enum HubUpgradeResult: Sendable {
    case websocket
    case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    case failedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
}

/// RFC 6455's server handshake (§4.2.2) onto the hub's channel handlers: NIOWebSocket's frame decoder, then a
/// `WebSocketConnectionHandler` serving the path's endpoint. No encoder: the connection writes frames rendered once
/// for all their recipients (`WireFrame`).
struct HubWebSocketUpgrader: NIOTypedHTTPServerProtocolUpgrader {
    typealias UpgradeResult = HubUpgradeResult

    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []
    let endpoints: WebSocketEndpoints
    /// Called when a request asks for the upgrade (so that a refusal is answered 400, not routed as HTTP).
    let attempted: @Sendable () -> Void

    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        self.attempted()
        let keys = upgradeRequest.headers["Sec-WebSocket-Key"]
        guard keys.count == 1, upgradeRequest.headers["Sec-WebSocket-Version"] == ["13"] else {
            return channel.eventLoop.makeFailedFuture(NIOWebSocketUpgradeError.invalidUpgradeHeader)
        }
        guard self.endpoints.path(of: upgradeRequest) != nil else {
            return channel.eventLoop.makeFailedFuture(NIOWebSocketUpgradeError.unsupportedWebSocketTarget)
        }
        var headers = initialResponseHeaders
        headers.replaceOrAdd(name: "Upgrade", value: "websocket")
        headers.add(name: "Sec-WebSocket-Accept", value: Data(Insecure.SHA1.hash(data: Data((keys[0] + Self.guid).utf8))).base64EncodedString())
        headers.replaceOrAdd(name: "Connection", value: "upgrade")
        if let deflate = DeflateNegotiation(offers: upgradeRequest.headers["Sec-WebSocket-Extensions"]) {
            headers.add(name: "Sec-WebSocket-Extensions", value: deflate.responseHeader)
        }
        return channel.eventLoop.makeSucceededFuture(headers)
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<HubUpgradeResult> {
        channel.eventLoop.makeCompletedFuture {
            guard let path = self.endpoints.path(of: upgradeRequest) else { throw NIOWebSocketUpgradeError.unsupportedWebSocketTarget }
            let deflate = DeflateNegotiation(offers: upgradeRequest.headers["Sec-WebSocket-Extensions"])
            let hub = self.endpoints.hub
            let endpoint = self.endpoints.makeEndpoint(path, head: upgradeRequest, channel: channel, deflates: deflate != nil)
            if let bytes = hub.socketSendBuffer {
                try channel.syncOptions?.setOption(ChannelOptions.socketOption(.so_sndbuf), value: SocketOptionValue(bytes))
            }
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: hub.maxMessageBytes)))
            try channel.pipeline.syncOperations.addHandler(WebSocketConnectionHandler(
                endpoint: endpoint, maxMessageBytes: hub.maxMessageBytes, inflateWindow: deflate?.receiveWindow, loops: hub.loops,
                closeTimeout: hub.closeTimeout
            ))
            return .websocket
        }
    }
}
