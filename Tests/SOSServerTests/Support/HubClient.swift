import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOSSL
import NIOWebSocket
import Testing
import WSCompression

/// A real WebSocket client of the hub for tests: it collects what the server sends, lets a test wait for
/// a frame of a given type, send frames, and see how the server closed the socket.
final class HubClient: @unchecked Sendable {
    // @unchecked: `inbox`, `closeFrame` and `isReading` are only touched while holding `lock`.
    private let lock = NSLock()
    private var inbox: [JSONValue] = []
    private var isReading: Bool
    private let outgoing: AsyncStream<Outgoing>.Continuation
    private var task: Task<WebSocketCloseFrame?, any Error>!
    private var counter = 0
    /// The `ready` event the socket was opened with (header-authenticated sockets); set before `connect` returns.
    private(set) var ready: JSONValue?

    enum Outgoing: Sendable {
        case text(String)
        case binary([UInt8])
        case close
    }

    struct TimedOut: Error, CustomStringConvertible {
        let description: String
    }

    /// Connects to `/api/v1/ws` on `port`. With `token`, it goes in the `Authorization` header and the client
    /// waits for the `ready` event; without, the socket is left unauthenticated.
    static func connect(
        port: Int, token: String? = nil, path: String = "/api/v1/ws", deflate: Bool = false, reading: Bool = true,
        waitForReady: Bool = true, host: String = "127.0.0.1", tls: TLSConfiguration? = nil
    ) async throws -> HubClient {
        let client = HubClient(reading: reading)
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        let configuration = WebSocketClientConfiguration(
            maxFrameSize: 1 << 24, additionalHeaders: headers,
            extensions: deflate ? [.perMessageDeflate(maxDecompressedFrameSize: 1 << 24)] : [],
            autoPing: .disabled, validateUTF8: true
        )
        let (connected, signal) = AsyncStream.makeStream(of: Void.self)
        let stream = client.outgoingStream
        var logger = Logger(label: "hub-client")
        logger.logLevel = .critical
        client.task = Task {
            defer { signal.finish() }
            let url = "\(tls == nil ? "ws" : "wss")://\(host):\(port)\(path)"
            return try await WebSocketClient.connect(url: url, configuration: configuration, tlsConfiguration: tls, logger: logger) { inbound, outbound, _ in
                signal.yield()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await item in stream {
                            switch item {
                            case .text(let text): try await outbound.write(.text(text))
                            case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                            case .close:
                                try await outbound.close(.normalClosure, reason: "bye")
                                return
                            }
                        }
                    }
                    var iterator = inbound.messages(maxSize: 1 << 24).makeAsyncIterator()
                    while true {
                        while !client.lock.withLock({ client.isReading }) { try await Task.sleep(for: .milliseconds(20)) }
                        guard let message = try await iterator.next() else { break }
                        if case .text(let text) = message, let value = JSONValue.parse(Data(text.utf8)) {
                            client.lock.withLock { client.inbox.append(value) }
                        }
                    }
                    group.cancelAll()
                }
            }
        }
        var iterator = connected.makeAsyncIterator()
        // step: the upgrade either completes (signal) or the connection task ends first
        if await iterator.next() == nil {
            _ = try await client.task.value
            throw TimedOut(description: "The server closed the socket during the upgrade")
        }
        if token != nil, waitForReady {
            client.ready = try await client.next("ready")
        }
        return client
    }

    private let outgoingStream: AsyncStream<Outgoing>

    private init(reading: Bool) {
        self.isReading = reading
        (self.outgoingStream, self.outgoing) = AsyncStream.makeStream(of: Outgoing.self)
    }

    /// Everything received and not yet taken.
    var pending: [JSONValue] { self.lock.withLock { self.inbox } }

    /// Starts (or pauses) reading from the socket; a paused client lets the server's writes back up.
    func setReading(_ reading: Bool) {
        self.lock.withLock { self.isReading = reading }
    }

    func sendRaw(_ text: String) {
        self.outgoing.yield(.text(text))
    }

    func sendBinary(_ bytes: [UInt8]) {
        self.outgoing.yield(.binary(bytes))
    }

    /// Sends `{"type", "id", "data"}`; returns the id.
    @discardableResult
    func send(_ type: String, _ data: [String: Any]? = nil, id: String? = nil) -> String {
        let id = id ?? self.lock.withLock {
            self.counter += 1
            return "c\(self.counter)"
        }
        var frame: [String: Any] = ["type": type, "id": id]
        if let data { frame["data"] = data }
        let text = String(decoding: try! JSONSerialization.data(withJSONObject: frame, options: [.sortedKeys]), as: UTF8.self)
        self.sendRaw(text)
        return id
    }

    /// Sends a command and waits for its `ack`, `error` or `pong` (matched by id).
    func call(_ type: String, _ data: [String: Any]? = nil, timeout: Duration = .seconds(10)) async throws -> JSONValue {
        let id = self.send(type, data)
        return try await self.take(timeout: timeout, "reply to \(type)") {
            ["ack", "error", "pong"].contains($0["type"]?.string) && $0["id"]?.string == id
        }
    }

    /// Sends a command, requires an `ack`, returns its data.
    func ack(_ type: String, _ data: [String: Any]? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let reply = try await self.call(type, data)
        try #require(reply["type"]?.string == "ack", "\(type) answered \(reply)", sourceLocation: sourceLocation)
        return reply["data"] ?? .null
    }

    /// Waits for the next frame of `type` (matching `predicate`) and takes it from the inbox.
    func next(_ type: String, timeout: Duration = .seconds(10), where predicate: @escaping (JSONValue) -> Bool = { _ in true }) async throws -> JSONValue {
        try await self.take(timeout: timeout, type) { $0["type"]?.string == type && predicate($0) }
    }

    private func take(timeout: Duration, _ what: String, _ predicate: @escaping (JSONValue) -> Bool) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found: JSONValue? = self.lock.withLock {
                guard let index = self.inbox.firstIndex(where: predicate) else { return nil }
                return self.inbox.remove(at: index)
            }
            if let found { return found }
            guard ContinuousClock.now < deadline else {
                throw TimedOut(description: "No \(what) within \(timeout); received: \(self.pending.map(\.description).joined(separator: "\n"))")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Drops every received frame of `type` not yet taken.
    func discard(_ type: String) {
        self.lock.withLock { self.inbox.removeAll { $0["type"]?.string == type } }
    }

    /// Proves a negative: no frame of `type` arrives within `window`.
    func expectNothing(_ type: String, within window: Duration = .milliseconds(600), sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await Task.sleep(for: window)
        let unexpected = self.pending.filter { $0["type"]?.string == type }
        #expect(unexpected.isEmpty, "unexpected \(type): \(unexpected)", sourceLocation: sourceLocation)
    }

    /// Closes from the client side.
    func close() {
        self.outgoing.yield(.close)
        self.outgoing.finish()
    }

    /// Waits until the server has closed the socket; returns its close frame.
    func closed(timeout: Duration = .seconds(20)) async throws -> WebSocketCloseFrame? {
        try await withThrowingTaskGroup(of: WebSocketCloseFrame?.self) { group in
            group.addTask { try await self.task.value }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TimedOut(description: "The server did not close the socket within \(timeout)")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }
}
