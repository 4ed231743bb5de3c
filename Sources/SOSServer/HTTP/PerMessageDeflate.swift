import CompressNIO
import HummingbirdWebSocket
import NIOCore
import NIOWebSocket

/// permessage-deflate (RFC 7692) that keeps no compression state on an idle socket.
///
/// The library's extension allocates a zlib compressor and decompressor when a socket opens and keeps them for its
/// life, which costs every idle connection its zlib state. Here both directions are negotiated without context
/// takeover (a server may require that of the client too, RFC 7692 §7.1.1.2), so no state has to survive between
/// messages: a zlib stream is made when a compressed message starts and freed when its last frame is done.
struct LazyDeflateBuilder: WebSocketExtensionBuilder {
    static let name = "permessage-deflate"

    /// LZ77 window bits for both directions (9 … 15).
    let maxWindow: Int
    let memoryLevel: Int
    let maxDecompressedMessageSize: Int

    func clientRequestHeader() -> String {
        "permessage-deflate;client_max_window_bits=\(self.maxWindow);client_no_context_takeover;server_max_window_bits=\(self.maxWindow);server_no_context_takeover"
    }

    func serverReponseHeader(to request: WebSocketExtensionHTTPParameters) -> String? {
        let (receiveWindow, sendWindow) = self.windows(request)
        var header = "permessage-deflate;client_no_context_takeover;server_no_context_takeover"
        // step: client_max_window_bits only when the client offered it (§7.1.2.2); the server may always cap its own
        if let receiveWindow { header += ";client_max_window_bits=\(receiveWindow)" }
        header += ";server_max_window_bits=\(sendWindow)"
        return header
    }

    func serverExtension(from request: WebSocketExtensionHTTPParameters) throws -> (any WebSocketExtension)? {
        let (receiveWindow, sendWindow) = self.windows(request)
        return LazyDeflate(
            receiveWindow: receiveWindow ?? 15, sendWindow: sendWindow, memoryLevel: self.memoryLevel,
            maxDecompressedMessageSize: self.maxDecompressedMessageSize
        )
    }

    func clientExtension(from response: WebSocketExtensionHTTPParameters) throws -> (any WebSocketExtension)? {
        nil  // server only
    }

    /// The window the client compresses with (nil: the client did not offer to limit it, so it may use 15) and
    /// the one the server compresses with.
    private func windows(_ request: WebSocketExtensionHTTPParameters) -> (receive: Int?, send: Int) {
        let receive: Int? = request.parameters["client_max_window_bits"].map { offered in
            min(offered.integer ?? 15, self.maxWindow)
        }
        let send = min(request.parameters["server_max_window_bits"]?.integer ?? 15, self.maxWindow)
        return (receive, max(9, send))
    }
}

extension WebSocketExtensionFactory {
    /// permessage-deflate without per-socket compression state (see `LazyDeflateBuilder`).
    static func lazyDeflate(maxWindow: Int = 9, memoryLevel: Int = 1, maxDecompressedMessageSize: Int) -> WebSocketExtensionFactory {
        .init { LazyDeflateBuilder(maxWindow: maxWindow, memoryLevel: memoryLevel, maxDecompressedMessageSize: maxDecompressedMessageSize) }
    }
}

struct LazyDeflate: WebSocketExtension {
    /// Inflates compressed messages; the zlib stream lives from a message's first frame to its last.
    actor Inflater {
        private var stream: ZlibDecompressor?
        private var inCompressedMessage = false
        private var inPlainMessage = false
        private var messageBytes = 0
        let window: Int
        let maxMessageSize: Int

        init(window: Int, maxMessageSize: Int) {
            self.window = window
            self.maxMessageSize = maxMessageSize
        }

        func process(_ frame: WebSocketFrame) throws -> WebSocketFrame {
            if !self.inCompressedMessage && !self.inPlainMessage {
                guard frame.rsv1 else {
                    self.inPlainMessage = !frame.fin
                    return frame
                }
                self.inCompressedMessage = true
                self.messageBytes = 0
                self.stream = try ZlibDecompressor(algorithm: .deflate, windowSize: numericCast(self.window))
            }
            if self.inPlainMessage {
                if frame.fin { self.inPlainMessage = false }
                return frame
            }
            guard let stream = self.stream else { return frame }
            var frame = frame
            var data = frame.unmaskedData
            if frame.fin {
                // step: the sender removed the empty block's tail 00 00 ff ff (§7.2.2); put it back
                data.writeBytes([0, 0, 255, 255])
            }
            do {
                // step: inflate no further than the message limit allows (a small frame can inflate enormously)
                frame.data = try data.decompressStream(
                    with: stream, maxSize: max(1, self.maxMessageSize - self.messageBytes), allocator: ByteBufferAllocator()
                )
            } catch let error as CompressNIOError where error == .bufferOverflow {
                self.finish()
                throw NIOWebSocketError.invalidFrameLength  // closes with 1009, like an uncompressed message over the limit
            } catch {
                self.finish()
                throw error
            }
            frame.maskKey = nil
            self.messageBytes += frame.data.readableBytes
            if frame.fin { self.finish() }
            return frame
        }

        private func finish() {
            self.stream = nil
            self.inCompressedMessage = false
        }
    }

    /// Deflates every outgoing data message; the zlib stream lives from a message's first frame to its last.
    actor Deflater {
        private var stream: ZlibCompressor?
        let window: Int
        let memoryLevel: Int

        init(window: Int, memoryLevel: Int) {
            self.window = window
            self.memoryLevel = memoryLevel
        }

        func process(_ frame: WebSocketFrame) throws -> WebSocketFrame {
            var frame = frame
            if self.stream == nil {
                // step: every message is compressed (see WebSocketRoutes.configuration for why even tiny ones)
                frame.rsv1 = true
                self.stream = try ZlibCompressor(
                    algorithm: .deflate,
                    configuration: .init(windowSize: numericCast(self.window), compressionLevel: -1, memoryLevel: numericCast(self.memoryLevel))
                )
            }
            guard let stream = self.stream else { return frame }
            frame.data = try frame.data.compressStream(with: stream, flush: .sync, allocator: ByteBufferAllocator())
            if frame.fin {
                // step: drop the sync flush's empty block tail 00 00 ff ff (§7.2.1)
                frame.data = frame.data.getSlice(at: frame.data.readerIndex, length: frame.data.readableBytes - 4) ?? frame.data
                self.stream = nil
            }
            return frame
        }
    }

    let name = "permessage-deflate"
    let inflater: Inflater
    let deflater: Deflater

    init(receiveWindow: Int, sendWindow: Int, memoryLevel: Int, maxDecompressedMessageSize: Int) {
        self.inflater = Inflater(window: receiveWindow, maxMessageSize: maxDecompressedMessageSize)
        self.deflater = Deflater(window: sendWindow, memoryLevel: memoryLevel)
    }

    func shutdown() async {}

    func processReceivedFrame(_ frame: WebSocketFrame, context: WebSocketExtensionContext) async throws -> WebSocketFrame {
        try await self.inflater.process(frame)
    }

    func processFrameToSend(_ frame: WebSocketFrame, context: WebSocketExtensionContext) async throws -> WebSocketFrame {
        guard frame.opcode == .text || frame.opcode == .binary || frame.opcode == .continuation else { return frame }
        return try await self.deflater.process(frame)
    }

    var reservedBits: WebSocketFrame.ReservedBits { .rsv1 }
}
