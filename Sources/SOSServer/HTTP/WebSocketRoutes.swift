import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import SOSRealtime

/// Context of WebSocket upgrade requests.
public struct HubRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<HubRequestContext>
    /// The connection, so a socket that no longer reads can be dropped.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.channel = source.channel
    }
}

/// Adapts Hummingbird's outbound writer to the hub's transport.
struct WebSocketTransport: ClientTransport {
    let outbound: WebSocketOutboundWriter
    let channel: any Channel

    func send(_ text: String) async throws {
        try await self.outbound.write(.text(text))
    }

    func close(code: UInt16, reason: String) async {
        // step: a close frame's reason must fit in 123 bytes of UTF-8
        var shortened = reason
        while shortened.utf8.count > 123 { shortened.removeLast() }
        let reason = shortened
        // step: a peer that stopped reading never lets the close frame out; drop the connection after 2 s
        let outbound = self.outbound
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await outbound.close(.unknown(code), reason: reason)
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(2))
                return false
            }
            if await group.next() == false { self.channel.close(mode: .all, promise: nil) }
            group.cancelAll()
        }
    }
}

enum WebSocketRoutes {
    /// The hub on `GET /api/v1/ws`, and in development an echo route with the same configuration (Autobahn tests).
    static func router(hub: Hub, maxMessageBytes: Int, development: Bool) -> Router<HubRequestContext> {
        let router = Router(context: HubRequestContext.self)
        router.ws("/api/v1/ws") { inbound, outbound, context in
            let bearer = context.request.headers[.authorization].flatMap { header -> String? in
                let parts = header.split(separator: " ", maxSplits: 1)
                return parts.count == 2 && parts[0].lowercased() == "bearer" ? String(parts[1]).trimmingCharacters(in: .whitespaces) : nil
            }
            let session = await hub.open(transport: WebSocketTransport(outbound: outbound, channel: context.requestContext.channel), bearer: bearer)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await session.writeLoop() }
                defer { session.finish() }
                do {
                    for try await message in inbound.messages(maxSize: maxMessageBytes) {
                        switch message {
                        case .text(let text): await hub.receive(text, from: session)
                        case .binary: await hub.rejectBinary(from: session)
                        }
                    }
                } catch {
                    await hub.closed(session)
                    throw error
                }
                await hub.closed(session)
            }
        }
        if development {
            router.ws("/api/v1/dev/ws-echo") { inbound, outbound, _ in
                for try await message in inbound.messages(maxSize: maxMessageBytes) {
                    switch message {
                    case .text(let text): try await outbound.write(.text(text))
                    case .binary(let buffer): try await outbound.write(.binary(buffer))
                    }
                }
            }
        }
        return router
    }

    /// RFC 6455 with permessage-deflate (RFC 7692) when the client offers it, UTF-8 validated, pings every 30 s.
    /// Deflate keeps no zlib state on idle sockets (`LazyDeflateBuilder`: no context takeover either way, a stream
    /// per message). Every message is compressed once deflate is negotiated, even tiny ones: RFC 7692 allows
    /// sending small ones uncompressed, but some clients mishandle uncompressed text frames in a compressed
    /// session (kosoku, the Autobahn runner, errors on them), and the cost is a few microseconds.
    static func configuration(maxMessageBytes: Int) -> WebSocketServerConfiguration {
        WebSocketServerConfiguration(
            maxFrameSize: maxMessageBytes,
            extensions: [.lazyDeflate(maxWindow: 9, memoryLevel: 1, maxDecompressedMessageSize: maxMessageBytes)],
            autoPing: .enabled(timePeriod: .seconds(30)),
            closeTimeout: .seconds(10),
            validateUTF8: true
        )
    }
}
