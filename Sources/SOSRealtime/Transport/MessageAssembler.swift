import CompressNIO
import NIOCore
import NIOWebSocket

/// A whole message from the client.
public enum WebSocketMessage: Sendable {
    case text(String)
    case binary(ByteBuffer)
}

/// Why a connection must be failed, with the close code RFC 6455 §7.4.1 gives it.
struct WebSocketFailure: Error, Equatable {
    let code: UInt16
    let reason: String

    static func protocolError(_ reason: String) -> WebSocketFailure { WebSocketFailure(code: 1002, reason: reason) }
    static let invalidUTF8 = WebSocketFailure(code: 1007, reason: "Text message is not valid UTF-8")
    static let tooBig = WebSocketFailure(code: 1009, reason: "Message too big")
}

/// Turns a client's data frames into messages: fragments joined in order (RFC 6455 §5.4), compressed messages
/// inflated (RFC 7692, a zlib stream only from a message's first frame to its last), text checked to be UTF-8, and
/// the size limit applied after inflation, so a small compressed frame cannot inflate into a large message. Between
/// messages it holds nothing.
struct MessageAssembler {
    private var opcode: WebSocketOpcode?
    private var compressed = false
    private var parts: ByteBuffer?
    private var inflater: ZlibDecompressor?
    let maxMessageBytes: Int
    /// The client's window when permessage-deflate was negotiated; nil when it was not (RSV1 is then an error).
    let inflateWindow: Int?

    init(maxMessageBytes: Int, inflateWindow: Int?) {
        self.maxMessageBytes = maxMessageBytes
        self.inflateWindow = inflateWindow
    }

    /// Takes one data frame (text, binary or continuation); returns the message it completes, if any.
    mutating func receive(_ frame: WebSocketFrame) throws(WebSocketFailure) -> WebSocketMessage? {
        guard !frame.rsv2, !frame.rsv3 else { throw .protocolError("Reserved bits set") }
        guard frame.maskKey != nil else { throw .protocolError("Client frames must be masked") }
        switch frame.opcode {
        case .text, .binary:
            guard self.opcode == nil else { throw .protocolError("Expected a continuation frame") }
            if frame.rsv1 {
                guard let window = self.inflateWindow else { throw .protocolError("RSV1 without permessage-deflate") }
                self.compressed = true
                do { self.inflater = try ZlibDecompressor(algorithm: .deflate, windowSize: Int32(window)) } catch {
                    throw WebSocketFailure(code: 1011, reason: "Cannot inflate")
                }
            }
            self.opcode = frame.opcode
        case .continuation:
            guard self.opcode != nil else { throw .protocolError("Continuation frame outside a message") }
            guard !frame.rsv1 else { throw .protocolError("RSV1 on a continuation frame") }
        default:
            throw .protocolError("Not a data frame")
        }
        var data = frame.unmaskedData
        if self.compressed {
            data = try self.inflate(data, last: frame.fin)
        }
        if frame.fin, self.parts == nil {
            // step: the usual case, a message in one frame: no joining buffer
            return try self.finish(data)
        }
        guard (self.parts?.readableBytes ?? 0) + data.readableBytes <= self.maxMessageBytes else { throw .tooBig }
        if self.parts == nil { self.parts = data } else { self.parts!.writeImmutableBuffer(data) }
        guard frame.fin, let whole = self.parts else { return nil }
        return try self.finish(whole)
    }

    private mutating func inflate(_ data: ByteBuffer, last: Bool) throws(WebSocketFailure) -> ByteBuffer {
        guard let inflater = self.inflater else { return data }
        var input = data
        if last {
            // step: the sender removed the empty block's tail 00 00 ff ff (§7.2.2); put it back
            input.writeBytes([0, 0, 255, 255])
        }
        let room = max(1, self.maxMessageBytes - (self.parts?.readableBytes ?? 0))
        do {
            return try input.decompressStream(with: inflater, maxSize: room, allocator: ByteBufferAllocator())
        } catch let error as CompressNIOError where error == .bufferOverflow {
            self.reset()
            throw .tooBig
        } catch {
            self.reset()
            throw WebSocketFailure(code: 1007, reason: "Invalid compressed data")
        }
    }

    private mutating func finish(_ data: ByteBuffer) throws(WebSocketFailure) -> WebSocketMessage {
        let opcode = self.opcode
        self.reset()
        guard data.readableBytes <= self.maxMessageBytes else { throw .tooBig }
        guard opcode == .text else { return .binary(data) }
        guard let text = data.withUnsafeReadableBytes({ String(validating: $0, as: UTF8.self) }) else { throw .invalidUTF8 }
        return .text(text)
    }

    private mutating func reset() {
        self.opcode = nil
        self.compressed = false
        self.parts = nil
        self.inflater = nil
    }
}
