/// What an upgraded WebSocket connection serves: the hub's `ClientSession`, or the development echo. Every call comes
/// on the connection's event loop; the endpoint answers through the `WebSocketConnectionHandler` it was given.
public protocol WebSocketEndpoint: AnyObject {
    /// The socket is upgraded and ready to write.
    func connected(_ connection: WebSocketConnectionHandler)
    /// A whole message arrived (fragments joined, inflated, UTF-8 checked).
    func received(_ message: WebSocketMessage)
    /// The channel's writability changed (back-pressure: false while the socket's send buffer is full).
    func writabilityChanged(_ writable: Bool)
    /// The server is shutting down: close with 1001 once what is in flight is answered.
    func shutdownRequested()
    /// The socket is closed; nothing more will be called.
    func disconnected()
}

/// The development echo endpoint (`/api/v1/dev/ws-echo`): the Autobahn|Testsuite target, with exactly the hub's
/// WebSocket path (framing, deflate, UTF-8 checks, limits, heartbeats).
public final class EchoEndpoint: WebSocketEndpoint {
    private var connection: WebSocketConnectionHandler?

    public init() {}

    public func connected(_ connection: WebSocketConnectionHandler) {
        self.connection = connection
    }

    public func received(_ message: WebSocketMessage) {
        switch message {
        case .text(let text): self.connection?.write(WireFrame.text(text, deflate: self.connection?.deflates ?? false))
        case .binary(let bytes):
            self.connection?.write(WireFrame.message(opcode: .binary, payload: bytes, deflate: self.connection?.deflates ?? false))
        }
    }

    public func writabilityChanged(_ writable: Bool) {}

    public func shutdownRequested() {
        self.connection?.close(code: 1001, reason: "Server shutting down")
    }

    public func disconnected() {
        self.connection = nil
    }
}
