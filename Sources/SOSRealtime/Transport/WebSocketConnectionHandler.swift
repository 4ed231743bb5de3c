import NIOCore
import NIOWebSocket

/// One upgraded WebSocket connection, served on its event loop by channel handlers and no task: NIOWebSocket's frame
/// decoder in front, this handler for RFC 6455's rules (control frames, the close handshake, heartbeats) and whole
/// messages (`MessageAssembler`), and the `endpoint` behind it. Writes are already-rendered frames (`WireFrame`) put
/// straight on the channel, so nothing is encoded per socket. Back-pressure: `pauseReading` stops reading from the
/// socket, and writability changes are passed to the endpoint.
public final class WebSocketConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = WebSocketFrame
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// Where the close handshake stands (RFC 6455 §7).
    enum CloseState {
        case open
        /// This side sent its close frame and waits for the peer's (or `closeTimeout`).
        case closeSent
        case closed
    }

    let endpoint: any WebSocketEndpoint
    let loops: ConnectionLoops
    /// Whether permessage-deflate was negotiated: every data message sent is then compressed.
    public let deflates: Bool
    let closeTimeout: TimeAmount
    private var assembler: MessageAssembler
    private var context: ChannelHandlerContext?
    private(set) var state = CloseState.open
    private var closeTimer: Scheduled<Void>?
    /// A ping went out and nothing came back since.
    var awaitingPong = false
    /// Something arrived since the last heartbeat tick (a socket that talks is alive and is not pinged).
    var heardFrom = true
    private var readsPaused = false
    private var readWanted = false

    public init(endpoint: any WebSocketEndpoint, maxMessageBytes: Int, inflateWindow: Int?, loops: ConnectionLoops, closeTimeout: TimeAmount = .seconds(3)) {
        self.endpoint = endpoint
        self.loops = loops
        self.deflates = inflateWindow != nil
        self.closeTimeout = closeTimeout
        self.assembler = MessageAssembler(maxMessageBytes: maxMessageBytes, inflateWindow: inflateWindow)
    }

    // MARK: - What the endpoint calls (on the event loop)

    /// Whether the socket takes more writes without buffering past the channel's high-water mark.
    public var isWritable: Bool { self.context?.channel.isWritable ?? false }

    /// Sends one message (nothing once the close handshake started).
    public func write(_ frame: WireFrame) {
        guard self.state == .open, let context = self.context else { return }
        context.writeAndFlush(Self.wrapOutboundOut(frame.bytes(deflated: self.deflates)), promise: nil)
    }

    /// Starts the close handshake with `code`; the socket is dropped if the peer does not answer within `closeTimeout`.
    public func close(code: UInt16, reason: String) {
        guard self.state == .open, let context = self.context else { return }
        self.state = .closeSent
        context.writeAndFlush(Self.wrapOutboundOut(WireFrame.close(code: code, reason: reason)), promise: nil)
        self.closeTimer = context.eventLoop.scheduleTask(in: self.closeTimeout) { [weak self] in self?.closeChannel() }
    }

    /// Stops reading from the socket until `resumeReading` (the endpoint has enough to do).
    public func pauseReading() {
        self.readsPaused = true
    }

    public func resumeReading() {
        guard self.readsPaused else { return }
        self.readsPaused = false
        if self.readWanted, let context = self.context {
            self.readWanted = false
            context.read()
        }
    }

    /// Called by `ConnectionLoops` every ping interval: a socket that sent nothing since the last tick gets a ping;
    /// one that answered nothing to the last ping is closed with 1001.
    func heartbeat() {
        guard self.state == .open, let context = self.context else { return }
        if self.heardFrom {
            self.heardFrom = false
            return
        }
        if self.awaitingPong {
            self.close(code: 1001, reason: "No pong to the server's ping")
            return
        }
        self.awaitingPong = true
        context.writeAndFlush(Self.wrapOutboundOut(WireFrame.control(.ping)), promise: nil)
    }

    // MARK: - Channel events

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.loops.add(self, on: context.eventLoop)
        self.endpoint.connected(self)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.finish()
        self.context = nil
    }

    public func channelInactive(context: ChannelHandlerContext) {
        self.finish()
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        guard self.state != .closed else { return }
        self.heardFrom = true
        self.awaitingPong = false
        switch frame.opcode {
        case .text, .binary, .continuation:
            guard self.state == .open else { return }  // step: after our close frame only the peer's close matters
            do {
                if let message = try self.assembler.receive(frame) { self.endpoint.received(message) }
            } catch {
                self.fail(error)
            }
        case .connectionClose, .ping, .pong:
            guard !frame.rsv1, !frame.rsv2, !frame.rsv3, frame.maskKey != nil else { return self.fail(.protocolError("Bad control frame")) }
            if frame.opcode == .connectionClose {
                self.peerClosed(frame.unmaskedData)
            } else if frame.opcode == .ping {
                guard self.state == .open else { return }
                context.writeAndFlush(Self.wrapOutboundOut(WireFrame.control(.pong, payload: frame.unmaskedData)), promise: nil)
            }
        default:
            self.fail(.protocolError("Unknown opcode"))
        }
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.endpoint.writabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error as? NIOWebSocketError {
        case .invalidFrameLength: self.fail(.tooBig)
        case .some: self.fail(.protocolError("Bad framing"))
        case .none: self.closeChannel()
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            self.endpoint.shutdownRequested()
        } else if case .inputClosed? = event as? ChannelEvent {
            self.closeChannel()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    public func read(context: ChannelHandlerContext) {
        if self.readsPaused {
            self.readWanted = true
        } else {
            context.read()
        }
    }

    // MARK: - Closing

    /// The peer's close frame: answered with the same code (RFC 6455 §5.5.1), then the server drops the TCP connection.
    private func peerClosed(_ payload: ByteBuffer) {
        guard self.state == .open else { return self.closeChannel() }
        var payload = payload
        let reply: ByteBuffer
        switch payload.readableBytes {
        case 0:
            reply = WireFrame.control(.close)
        case 1:
            return self.fail(.protocolError("Close frame with a one-byte payload"))
        default:
            let code = payload.readInteger(as: UInt16.self) ?? 0
            guard Self.isValidCloseCode(code) else { return self.fail(.protocolError("Invalid close code")) }
            guard payload.withUnsafeReadableBytes({ String(validating: $0, as: UTF8.self) }) != nil else { return self.fail(.invalidUTF8) }
            reply = WireFrame.close(code: code, reason: "")
        }
        self.state = .closeSent
        self.writeThenClose(reply)
    }

    /// Fails the connection (RFC 6455 §7.1.7): a close frame with the code, then the TCP connection is dropped.
    private func fail(_ failure: WebSocketFailure) {
        guard self.state == .open else { return self.closeChannel() }
        self.state = .closeSent
        self.writeThenClose(WireFrame.close(code: failure.code, reason: failure.reason))
    }

    private func writeThenClose(_ frame: ByteBuffer) {
        guard let context = self.context else { return }
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { [weak self] _ in self?.closeChannel() }
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: promise)
        // step: a peer that does not read never lets the frame out
        self.closeTimer = context.eventLoop.scheduleTask(in: self.closeTimeout) { [weak self] in self?.closeChannel() }
    }

    private func closeChannel() {
        guard let context = self.context, self.state != .closed else { return }
        context.close(promise: nil)
    }

    /// Once, when the socket is gone.
    private func finish() {
        guard self.state != .closed else { return }
        self.state = .closed
        self.closeTimer?.cancel()
        self.closeTimer = nil
        if let context = self.context { self.loops.remove(self, on: context.eventLoop) }
        self.endpoint.disconnected()
    }

    /// Close codes a peer may send (RFC 6455 §7.4): 1000–1003, 1007–1011, and 3000–4999 for libraries and applications.
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        (1000...1003).contains(code) || (1007...1011).contains(code) || (3000...4999).contains(code)
    }
}

@available(*, unavailable)
extension WebSocketConnectionHandler: Sendable {}
