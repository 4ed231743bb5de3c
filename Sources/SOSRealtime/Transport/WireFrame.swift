import CompressNIO
import NIOCore

/// A server → client WebSocket message ready for the socket: the whole frame (header and payload) rendered once,
/// plain and, when a recipient negotiated permessage-deflate, compressed. Server frames are never masked and every
/// socket compresses with the same settings and no context takeover (`PerMessageDeflate`), so the bytes are the same
/// for every recipient: fan-out writes one shared buffer to each socket, with no copy and no per-socket zlib state.
public struct WireFrame: Sendable, Equatable {
    public let plain: ByteBuffer
    public let deflated: ByteBuffer?

    /// The bytes for a socket that negotiated deflate or not.
    func bytes(deflated: Bool) -> ByteBuffer {
        deflated ? (self.deflated ?? self.plain) : self.plain
    }

    /// Size counted against a socket's outbound byte budget.
    var byteCount: Int { self.plain.readableBytes }

    /// A text message; compressed too when `deflate`.
    public static func text(_ text: String, deflate: Bool) -> WireFrame {
        var payload = ByteBuffer()
        payload.reserveCapacity(text.utf8.count)
        payload.writeString(text)
        return Self.message(opcode: .text, payload: payload, deflate: deflate)
    }

    /// A data message (text or binary); compressed too when `deflate`.
    static func message(opcode: WebSocketOpcodeByte, payload: ByteBuffer, deflate: Bool) -> WireFrame {
        let plain = Self.render(opcode: opcode, rsv1: false, payload: payload)
        guard deflate, let compressed = PerMessageDeflate.compress(payload) else { return WireFrame(plain: plain, deflated: nil) }
        return WireFrame(plain: plain, deflated: Self.render(opcode: opcode, rsv1: true, payload: compressed))
    }

    /// A control frame (close, ping, pong): never compressed, at most 125 bytes of payload.
    static func control(_ opcode: WebSocketOpcodeByte, payload: ByteBuffer = ByteBuffer()) -> ByteBuffer {
        Self.render(opcode: opcode, rsv1: false, payload: payload)
    }

    /// A close frame: the code, then the reason cut to fit 123 bytes of UTF-8 (RFC 6455 §5.5.1).
    static func close(code: UInt16, reason: String) -> ByteBuffer {
        var payload = ByteBuffer()
        payload.writeInteger(code)
        var utf8 = Array(reason.utf8.prefix(123))
        // step: never cut a multi-byte character in half (the reason must stay valid UTF-8)
        while !utf8.isEmpty, String(validating: utf8, as: UTF8.self) == nil { utf8.removeLast() }
        payload.writeBytes(utf8)
        return Self.control(.close, payload: payload)
    }

    /// RFC 6455 §5.2: FIN, RSV1 (compressed), opcode, then the payload length in 7, 7+16 or 7+64 bits.
    static func render(opcode: WebSocketOpcodeByte, rsv1: Bool, payload: ByteBuffer) -> ByteBuffer {
        let length = payload.readableBytes
        var frame = ByteBuffer()
        frame.reserveCapacity(length + 10)
        frame.writeInteger(UInt8(0x80 | (rsv1 ? 0x40 : 0) | opcode.rawValue))
        switch length {
        case 0...125:
            frame.writeInteger(UInt8(length))
        case 126...0xFFFF:
            frame.writeInteger(UInt8(126))
            frame.writeInteger(UInt16(length))
        default:
            frame.writeInteger(UInt8(127))
            frame.writeInteger(UInt64(length))
        }
        frame.writeImmutableBuffer(payload)
        return frame
    }
}

/// The opcodes the server sends.
enum WebSocketOpcodeByte: UInt8 {
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA
}

/// permessage-deflate (RFC 7692) as the server negotiates it: no context takeover in either direction (the server may
/// require that of the client, §7.1.1.2), 9-bit windows, so no zlib state outlives a message. What is negotiated at
/// the upgrade is in `SOSServer`'s `DeflateNegotiation`; this is the compression itself.
public enum PerMessageDeflate {
    /// The LZ77 window the server compresses with (the smallest zlib supports for raw deflate).
    public static let sendWindow = 9
    /// zlib memory level for compression (1: the least memory, 64 KiB messages still compress well).
    static let memoryLevel = 1

    /// Deflates one whole message; nil if zlib fails (the message then goes out uncompressed).
    static func compress(_ payload: ByteBuffer) -> ByteBuffer? {
        var input = payload
        guard let stream = try? ZlibCompressor(
            algorithm: .deflate, configuration: .init(windowSize: Int32(Self.sendWindow), compressionLevel: -1, memoryLevel: Int32(Self.memoryLevel))
        ), var output = try? input.compressStream(with: stream, flush: .sync, allocator: ByteBufferAllocator()) else { return nil }
        // step: drop the sync flush's empty block tail 00 00 ff ff (§7.2.1)
        output.moveWriterIndex(to: max(output.readerIndex, output.writerIndex - 4))
        return output
    }
}
