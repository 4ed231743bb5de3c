// ws-load: WebSocket load generator for the SOS Tourist Doctor hub.
//
// Scenarios (all on loopback, bounded in count and time):
//   connections  open N authenticated sockets (optionally offering permessage-deflate) from several
//                127.0.0.x source addresses, wait for every `ready`, print HOLDING, hold, close.
//   chat         P patient/doctor pairs, one socket each; chat.send at R messages/s in total; measures
//                send → chat.message at the recipient and send → ack (the ack comes after the insert).
//   throughput   P pairs, each sender keeps W chat.send in flight; counts acks (stored messages) per second.
//   fanout       N admin dashboard sockets; K appointment updates over REST; measures REST request start →
//                appointment.updated arriving on every dashboard.
//   slow         N admin dashboards of which every k-th stops reading (4 KB receive buffer, reads off) while
//                updates keep coming: the fast ones' latency before, during and after, the server's 4008 count,
//                RSS and descriptors (issue 12).
//
// Tokens are minted here (HS256 with the server's JWT_SECRET) for user ids listed in files the script
// exports from the database, so no bcrypt sign-in is needed for 100,000 sockets.

import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

// MARK: - Arguments

struct Options {
    var values: [String: String] = [:]
    let scenario: String

    init() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(Data("usage: ws-load connections|chat|throughput|fanout --key value …\n".utf8))
            exit(2)
        }
        self.scenario = arguments.removeFirst()
        while !arguments.isEmpty {
            let key = arguments.removeFirst()
            guard key.hasPrefix("--"), !arguments.isEmpty else { fatalError("bad argument \(key)") }
            self.values[String(key.dropFirst(2))] = arguments.removeFirst()
        }
    }

    func string(_ key: String, _ fallback: String? = nil) -> String {
        guard let value = self.values[key] ?? fallback else { fatalError("--\(key) is required") }
        return value
    }

    func int(_ key: String, _ fallback: Int) -> Int { self.values[key].flatMap(Int.init) ?? fallback }
    func double(_ key: String, _ fallback: Double) -> Double { self.values[key].flatMap(Double.init) ?? fallback }
    func bool(_ key: String) -> Bool { self.values[key] == "1" || self.values[key] == "true" }
}

// MARK: - Tokens

enum Tokens {
    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// An access token exactly like the server's: HS256, `sub`, `role`, `email`, `iat`, `exp`, `jti`.
    static func mint(userId: String, role: String, secret: String, lifetime: TimeInterval = 3600) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let header = base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let claims = #"{"sub":"\#(userId)","role":"\#(role)","email":"","iat":\#(now),"exp":\#(now + Int(lifetime)),"jti":"\#(UUID().uuidString.lowercased())"}"#
        let payload = base64URL(Data(claims.utf8))
        let signingInput = header + "." + payload
        let mac = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return signingInput + "." + base64URL(Data(mac))
    }
}

// MARK: - Clock and statistics

@inline(__always) func nowNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

final class Samples: @unchecked Sendable {
    private let lock = NIOLock()
    private var values: [UInt64] = []

    func add(_ value: UInt64) { self.lock.withLock { self.values.append(value) } }
    var count: Int { self.lock.withLock { self.values.count } }

    /// "p50=… p90=… p99=… p99.9=… max=…" in milliseconds.
    func summary() -> String {
        let sorted = self.lock.withLock { self.values.sorted() }
        guard !sorted.isEmpty else { return "no samples" }
        func at(_ p: Double) -> String {
            let index = min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1)
            return String(format: "%.2f", Double(sorted[max(0, index)]) / 1e6)
        }
        return "n=\(sorted.count) p50=\(at(50))ms p90=\(at(90))ms p99=\(at(99))ms p99.9=\(at(99.9))ms max=\(at(100))ms"
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NIOLock()
    private var value = 0
    func add(_ n: Int = 1) { self.lock.withLock { self.value += n } }
    var current: Int { self.lock.withLock { self.value } }
}

// MARK: - WebSocket client on raw NIO (no task per socket, so 100,000 sockets stay cheap on the client side)

/// Receives frames of one socket; `onText` gets the raw bytes of each text message and its arrival time.
final class SocketHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let onText: (ByteBuffer, UInt64, Channel) -> Void
    private var partial: ByteBuffer?

    init(onText: @escaping (ByteBuffer, UInt64, Channel) -> Void) {
        self.onText = onText
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        let arrived = nowNanos()
        switch frame.opcode {
        case .text:
            if frame.fin { self.onText(frame.unmaskedData, arrived, context.channel) } else { self.partial = frame.unmaskedData }
        case .continuation:
            var data = frame.unmaskedData
            self.partial?.writeBuffer(&data)
            if frame.fin, let whole = self.partial {
                self.partial = nil
                self.onText(whole, arrived, context.channel)
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(self.wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            context.close(promise: nil)
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// Sends the upgrade request once the TCP connection is up.
final class UpgradeRequester: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let host: String
    let path: String
    let headers: [(String, String)]

    init(host: String, path: String, headers: [(String, String)]) {
        self.host = host
        self.path = path
        self.headers = headers
    }

    func channelActive(context: ChannelHandlerContext) {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: self.path)
        head.headers.add(name: "Host", value: self.host)
        for (name, value) in self.headers { head.headers.add(name: name, value: value) }
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // step: a non-101 answer: the upgrade failed
        context.close(promise: nil)
    }
}

struct Target {
    let host: String
    let port: Int
    let path: String

    init(url: String) {
        let components = URLComponents(string: url)!
        self.host = components.host ?? "127.0.0.1"
        self.port = components.port ?? 80
        self.path = components.path.isEmpty ? "/" : components.path
    }
}

func connect(_ target: Target, token: String, deflate: Bool, source: String?, group: EventLoopGroup, receiveBuffer: Int? = nil,
             onText: @escaping (ByteBuffer, UInt64, Channel) -> Void) -> EventLoopFuture<Channel> {
    var headers = [("Authorization", "Bearer \(token)")]
    if deflate { headers.append(("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")) }
    let requester = UpgradeRequester(host: "\(target.host):\(target.port)", path: target.path, headers: headers)
    var bootstrap = ClientBootstrap(group: group)
        .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        .connectTimeout(.seconds(30))
        .channelInitializer { channel in
            let upgrader = NIOWebSocketClientUpgrader(
                maxFrameSize: 1 << 20, automaticErrorHandling: true,
                upgradePipelineHandler: { channel, _ in channel.pipeline.addHandler(SocketHandler(onText: onText)) }
            )
            let configuration: NIOHTTPClientUpgradeConfiguration = (
                upgraders: [upgrader], completionHandler: { context in context.pipeline.removeHandler(requester, promise: nil) }
            )
            return channel.pipeline.addHTTPClientHandlers(leftOverBytesStrategy: .forwardBytes, withClientUpgrade: configuration).flatMap {
                channel.pipeline.addHandler(requester)
            }
        }
    // step: a small receive buffer (set before connecting, so the window is small from the start) makes a socket
    // that stops reading fill up after a few frames instead of after megabytes
    if let receiveBuffer { bootstrap = bootstrap.channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer)) }
    if let source { bootstrap = bootstrap.bind(to: try! SocketAddress(ipAddress: source, port: 0)) }
    return bootstrap.connect(host: target.host, port: target.port)
}

func sendText(_ channel: Channel, _ text: String) {
    var buffer = channel.allocator.buffer(capacity: text.utf8.count)
    buffer.writeString(text)
    channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer), promise: nil)
}

extension ByteBuffer {
    /// Whether the bytes contain `needle` (ASCII).
    func contains(_ needle: [UInt8]) -> Bool {
        self.withUnsafeReadableBytes { bytes in
            guard bytes.count >= needle.count else { return false }
            var index = 0
            let last = bytes.count - needle.count
            while index <= last {
                if bytes[index] == needle[0] {
                    var match = true
                    for offset in 1..<needle.count where bytes[index + offset] != needle[offset] {
                        match = false
                        break
                    }
                    if match { return true }
                }
                index += 1
            }
            return false
        }
    }

    /// The decimal number following `marker` (e.g. `t=`), if any.
    func number(after marker: [UInt8]) -> UInt64? {
        self.withUnsafeReadableBytes { bytes in
            guard bytes.count > marker.count else { return nil }
            var index = 0
            while index + marker.count < bytes.count {
                var match = true
                for offset in 0..<marker.count where bytes[index + offset] != marker[offset] {
                    match = false
                    break
                }
                if match {
                    var value: UInt64 = 0
                    var cursor = index + marker.count
                    while cursor < bytes.count, bytes[cursor] >= 48, bytes[cursor] <= 57 {
                        value = value * 10 + UInt64(bytes[cursor] - 48)
                        cursor += 1
                    }
                    return value
                }
                index += 1
            }
            return nil
        }
    }
}

// MARK: - Inputs

/// Lines of whitespace-separated fields from a file the script wrote.
func rows(_ path: String) -> [[String]] {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.filter { !$0.isEmpty }
}

/// Opens sockets with at most `parallel` upgrades in flight; returns the channels that reached `ready`.
func openMany(count: Int, parallel: Int, target: Target, deflate: Bool, sources: [String], group: EventLoopGroup,
              targetFor: ((Int) -> Target)? = nil, receiveBuffer: ((Int) -> Int?)? = nil,
              token: @escaping (Int) -> String, onText: @escaping (Int, ByteBuffer, UInt64, Channel) -> Void) -> [Channel?] {
    let ready = Counter()
    let failed = Counter()
    let channels = NIOLockedValueBox([Channel?](repeating: nil, count: count))
    let readyMarker = Array(#""type":"ready""#.utf8)
    let semaphore = DispatchSemaphore(value: parallel)
    let started = nowNanos()
    var lastReport = started
    for index in 0..<count {
        semaphore.wait()
        var released = false
        let releaseOnce: () -> Void = {
            if !released {
                released = true
                semaphore.signal()
            }
        }
        let source = sources.isEmpty ? nil : sources[index % sources.count]
        let future = connect(targetFor?(index) ?? target, token: token(index), deflate: deflate, source: source, group: group,
                             receiveBuffer: receiveBuffer?(index)) { buffer, arrived, channel in
            // step: `ready` is always the first frame; with deflate it arrives compressed, so any first frame counts
            if channels.withLockedValue({ $0[index] == nil }) && (deflate || buffer.contains(readyMarker)) {
                channels.withLockedValue { $0[index] = channel }
                ready.add()
                releaseOnce()
            } else {
                onText(index, buffer, arrived, channel)
            }
        }
        future.whenComplete { result in
            switch result {
            case .failure:
                failed.add()
                future.eventLoop.execute { releaseOnce() }
            case .success(let channel):
                channel.closeFuture.whenComplete { _ in
                    if channels.withLockedValue({ $0[index] == nil }) {
                        failed.add()
                        releaseOnce()
                    }
                }
                // step: a socket that gets no `ready` within 15 s counts as failed
                channel.eventLoop.scheduleTask(in: .seconds(15)) {
                    if channels.withLockedValue({ $0[index] == nil }) { channel.close(promise: nil) }
                }
            }
        }
        if nowNanos() - lastReport > 2_000_000_000 {
            lastReport = nowNanos()
            print("  … \(ready.current) ready, \(failed.current) failed after \(String(format: "%.1f", Double(lastReport - started) / 1e9)) s")
        }
    }
    for _ in 0..<parallel { semaphore.wait() }
    for _ in 0..<parallel { semaphore.signal() }
    let seconds = Double(nowNanos() - started) / 1e9
    print("connected: \(ready.current) ready, \(failed.current) failed in \(String(format: "%.1f", seconds)) s (\(String(format: "%.0f", Double(ready.current) / seconds)) sockets/s)")
    return channels.withLockedValue { $0 }
}

// MARK: - Scenarios

let options = Options()
let target = Target(url: options.string("url"))
let secret = options.string("secret")
let threads = options.int("threads", 1)
let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let sources = options.values["sources"].map { $0.split(separator: ",").map(String.init) } ?? []

switch options.scenario {
case "connections":
    let count = options.int("count", 1000)
    let users = rows(options.string("users"))
    let tokens = users.map { Tokens.mint(userId: $0[0], role: $0[1], secret: secret, lifetime: 4 * 3600) }
    let channels = openMany(count: count, parallel: options.int("parallel", 256), target: target, deflate: options.bool("deflate"),
                            sources: sources, group: group, token: { tokens[$0 % tokens.count] }, onText: { _, _, _, _ in })
    let open = channels.compactMap { $0 }.filter(\.isActive).count
    print("HOLDING \(open)")
    fflush(stdout)
    Thread.sleep(forTimeInterval: options.double("hold", 10))
    print("still open after hold: \(channels.compactMap { $0 }.filter(\.isActive).count)")
    for channel in channels.compactMap({ $0 }) { channel.close(promise: nil) }
    Thread.sleep(forTimeInterval: 1)

case "chat", "throughput":
    // step: each user in one pair only, so every message has exactly one receiving socket
    var seen = Set<String>()
    let pairs = Array(rows(options.string("pairs")).filter { row in
        guard !seen.contains(row[0]), !seen.contains(row[1]) else { return false }
        seen.insert(row[0])
        seen.insert(row[1])
        return true
    }.prefix(options.int("count", 100)).map { ($0[0], $0[1]) })
    let duration = options.double("duration", 10)
    let warmup = options.double("warmup", 2)
    let deliver = Samples()
    let acks = Samples()
    let acked = Counter()
    let delivered = Counter()
    let errors = Counter()
    let tMarker = Array("t=".utf8)
    let messageMarker = Array(#""type":"chat.message""#.utf8)
    let ackMarker = Array(#""type":"ack""#.utf8)
    let errorMarker = Array(#""type":"error""#.utf8)
    let measuring = NIOLockedValueBox(false)
    let window = options.int("window", 8)
    let throughput = options.scenario == "throughput"
    // senders: even index = patient socket (sends), odd = doctor socket (receives)
    func send(pair: Int, channel: Channel, to recipient: String) {
        let stamp = nowNanos()
        sendText(channel, #"{"type":"chat.send","id":"\#(stamp)","data":{"to":"\#(recipient)","content":"bench t=\#(stamp) load","client_msg_id":"b\#(pair)-\#(stamp)"}}"#)
    }
    var senders = [Channel?](repeating: nil, count: pairs.count)
    // step: with --url2 the receiving sockets are on another node (the message crosses LISTEN/NOTIFY)
    let receiverTarget = options.values["url2"].map { Target(url: $0) }
    let channels = openMany(count: pairs.count * 2, parallel: 128, target: target, deflate: false, sources: sources, group: group,
                            targetFor: { index in index % 2 == 1 ? (receiverTarget ?? target) : target },
                            token: { index in
                                let pair = pairs[index / 2]
                                return index % 2 == 0 ? Tokens.mint(userId: pair.0, role: "patient", secret: secret)
                                    : Tokens.mint(userId: pair.1, role: "doctor", secret: secret)
                            },
                            onText: { index, buffer, arrived, channel in
                                let counting = measuring.withLockedValue { $0 }
                                if index % 2 == 1 {
                                    if buffer.contains(messageMarker), let sent = buffer.number(after: tMarker) {
                                        if counting {
                                            deliver.add(arrived - sent)
                                            delivered.add()
                                        }
                                    }
                                } else if buffer.contains(ackMarker), let sent = buffer.number(after: tMarker) {
                                    if counting {
                                        acks.add(arrived - sent)
                                        acked.add()
                                    }
                                    if throughput {
                                        send(pair: index / 2, channel: channel, to: pairs[index / 2].1)
                                    }
                                } else if buffer.contains(errorMarker) {
                                    errors.add()
                                    if errors.current < 5 { print("error: \(String(buffer: buffer))") }
                                    if throughput { send(pair: index / 2, channel: channel, to: pairs[index / 2].1) }
                                }
                            })
    for pair in 0..<pairs.count { senders[pair] = channels[pair * 2] }
    let active = senders.enumerated().compactMap { item in item.element.map { (item.offset, $0) } }
    guard !active.isEmpty else { fatalError("no sockets") }
    if throughput {
        for (pair, channel) in active {
            channel.eventLoop.execute { for _ in 0..<window { send(pair: pair, channel: channel, to: pairs[pair].1) } }
        }
        Thread.sleep(forTimeInterval: warmup)
        measuring.withLockedValue { $0 = true }
        let before = acked.current
        let started = nowNanos()
        Thread.sleep(forTimeInterval: duration)
        let count = acked.current - before
        let seconds = Double(nowNanos() - started) / 1e9
        measuring.withLockedValue { $0 = false }
        print("throughput: \(count) stored messages acked in \(String(format: "%.1f", seconds)) s = \(String(format: "%.0f", Double(count) / seconds)) msg/s (\(active.count) senders × window \(window)), errors=\(errors.current)")
        print("ack latency: \(acks.summary())")
    } else {
        let rate = options.double("rate", 1000)
        let total = Int(rate * (duration + warmup))
        let interval = 1.0 / rate
        let started = nowNanos()
        var next = 0
        while next < total {
            let due = started + UInt64(Double(next) * interval * 1e9)
            let now = nowNanos()
            if now < due { usleep(UInt32(min(1_000, (due - now) / 1_000))) ; continue }
            if next == Int(rate * warmup) { measuring.withLockedValue { $0 = true } }
            let (pair, channel) = active[next % active.count]
            channel.eventLoop.execute { send(pair: pair, channel: channel, to: pairs[pair].1) }
            next += 1
        }
        Thread.sleep(forTimeInterval: 1)
        measuring.withLockedValue { $0 = false }
        let expected = total - Int(rate * warmup)
        print("chat at \(Int(rate)) msg/s for \(duration) s over \(active.count) pairs: sent=\(expected) delivered=\(delivered.current) acked=\(acked.current) errors=\(errors.current)")
        print("send → deliver: \(deliver.summary())")
        print("send → ack (stored): \(acks.summary())")
    }
    for channel in channels.compactMap({ $0 }) { channel.close(promise: nil) }

case "fanout":
    let count = options.int("count", 1000)
    let admins = rows(options.string("users")).filter { $0[1] == "admin" }
    let appointment = options.string("appointment")
    let updates = options.int("updates", 20)
    let latencies = Samples()
    let perUpdateMax = Samples()
    let marker = Array(#""type":"appointment.updated""#.utf8)
    let noteMarker = Array("fanout-".utf8)
    let starts = NIOLockedValueBox([UInt64: UInt64]())
    let received = NIOLockedValueBox([UInt64: (count: Int, max: UInt64)]())
    let channels = openMany(count: count, parallel: 256, target: target, deflate: options.bool("deflate"), sources: sources, group: group,
                            token: { Tokens.mint(userId: admins[$0 % admins.count][0], role: "admin", secret: secret) },
                            onText: { _, buffer, arrived, _ in
                                guard buffer.contains(marker), let round = buffer.number(after: noteMarker) else { return }
                                guard let start = starts.withLockedValue({ $0[round] }) else { return }
                                latencies.add(arrived - start)
                                received.withLockedValue { state in
                                    let current = state[round] ?? (0, 0)
                                    state[round] = (current.count + 1, max(current.max, arrived - start))
                                }
                            })
    let open = channels.compactMap { $0 }.count
    let adminToken = Tokens.mint(userId: admins[0][0], role: "admin", secret: secret)
    let restLatency = Samples()
    for round in 1...UInt64(updates) {
        var request = URLRequest(url: URL(string: "http://\(target.host):\(target.port)/api/v1/appointments/\(appointment)")!)
        request.httpMethod = "PUT"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(adminToken)", forHTTPHeaderField: "Authorization")
        request.httpBody = Data(#"{"additional_note":"fanout-\#(round)"}"#.utf8)
        let done = DispatchSemaphore(value: 0)
        let start = nowNanos()
        starts.withLockedValue { $0[round] = start }
        URLSession.shared.dataTask(with: request) { _, response, _ in
            restLatency.add(nowNanos() - start)
            if (response as? HTTPURLResponse)?.statusCode != 200 { print("update \(round): HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)") }
            done.signal()
        }.resume()
        done.wait()
        // step: wait until every dashboard has it (or 5 s), then pause so rounds do not overlap
        let deadline = nowNanos() + 5_000_000_000
        while (received.withLockedValue { $0[round]?.count ?? 0 }) < open, nowNanos() < deadline { usleep(1_000) }
        if let state = received.withLockedValue({ $0[round] }) { perUpdateMax.add(state.max) }
        usleep(200_000)
    }
    let complete = received.withLockedValue { $0.values.filter { $0.count == open }.count }
    print("fanout to \(open) dashboards, \(updates) updates: \(complete) updates reached every dashboard")
    print("REST PUT → appointment.updated on a dashboard: \(latencies.summary())")
    print("REST PUT → last dashboard, per update: \(perUpdateMax.summary())")
    print("REST PUT round trip: \(restLatency.summary())")
    for channel in channels.compactMap({ $0 }) { channel.close(promise: nil) }

case "slow":
    // step: issue 12's slow consumers: `count` admin dashboards, every `slow-every`-th of which stops reading (a small
    // receive buffer, reads switched off) while appointment updates keep coming. The server must close each slow one
    // with 4008 (its counter in /metrics) and keep the others' latency; its RSS is sampled every round.
    let count = options.int("count", 10000)
    let slowEvery = options.int("slow-every", 10)
    let admins = rows(options.string("users")).filter { $0[1] == "admin" }
    let appointment = options.string("appointment")
    let serverPID = options.string("server-pid")
    let noteBytes = options.int("note-bytes", 1000)
    let maxRounds = options.int("max-rounds", 3000)
    let marker = Array(#""type":"appointment.updated""#.utf8)
    let roundMarker = Array("fanout-".utf8)
    let starts = NIOLockedValueBox([UInt64: UInt64]())
    let received = NIOLockedValueBox([UInt64: (count: Int, max: UInt64)]())
    let phaseLatency = NIOLockedValueBox(Samples())
    let isSlow: (Int) -> Bool = { slowEvery > 0 && $0 % slowEvery == slowEvery - 1 }
    let channels = openMany(count: count, parallel: 256, target: target, deflate: false, sources: sources, group: group,
                            receiveBuffer: { isSlow($0) ? 4096 : nil },
                            token: { Tokens.mint(userId: admins[$0 % admins.count][0], role: "admin", secret: secret, lifetime: 4 * 3600) },
                            onText: { index, buffer, arrived, _ in
                                guard !isSlow(index), buffer.contains(marker), let round = buffer.number(after: roundMarker) else { return }
                                guard let start = starts.withLockedValue({ $0[round] }) else { return }
                                phaseLatency.withLockedValue { $0 }.add(arrived - start)
                                received.withLockedValue { state in
                                    let current = state[round] ?? (0, 0)
                                    state[round] = (current.count + 1, max(current.max, arrived - start))
                                }
                            })
    let fast = channels.enumerated().filter { !isSlow($0.offset) }.compactMap { $0.element }
    let slow = channels.enumerated().filter { isSlow($0.offset) }.compactMap { $0.element }
    let adminToken = Tokens.mint(userId: admins[0][0], role: "admin", secret: secret, lifetime: 4 * 3600)
    func rssMB() -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(serverPID)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Double(line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0) / 1024
    }
    func fds() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(serverPID)/fd").count) ?? 0 }
    func metric(_ name: String) -> Double {
        guard let data = try? Data(contentsOf: URL(string: "http://\(target.host):\(target.port)/metrics")!),
              let text = String(data: data, encoding: .utf8) else { return -1 }
        return text.split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }
    // step: random letters, so the frame is as large on the wire as in memory
    let letters = Array("abcdefghijklmnopqrstuvwxyz".utf8)
    var round: UInt64 = 0
    func update() -> Bool {
        round += 1
        var request = URLRequest(url: URL(string: "http://\(target.host):\(target.port)/api/v1/appointments/\(appointment)")!)
        request.httpMethod = "PUT"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(adminToken)", forHTTPHeaderField: "Authorization")
        let filler = String(decoding: (0..<noteBytes).map { _ in letters.randomElement()! }, as: UTF8.self)
        request.httpBody = Data(#"{"additional_note":"fanout-\#(round) \#(filler)"}"#.utf8)
        let done = DispatchSemaphore(value: 0)
        let current = round
        starts.withLockedValue { $0[current] = nowNanos() }
        var ok = false
        URLSession.shared.dataTask(with: request) { _, response, _ in
            ok = (response as? HTTPURLResponse)?.statusCode == 200
            done.signal()
        }.resume()
        done.wait()
        let deadline = nowNanos() + 5_000_000_000
        while (received.withLockedValue { $0[current]?.count ?? 0 }) < fast.count, nowNanos() < deadline { usleep(500) }
        return ok
    }
    func phase(_ name: String, rounds: Int, until: (() -> Bool)? = nil) {
        phaseLatency.withLockedValue { $0 = Samples() }
        let first = round + 1
        var done = 0
        let started = nowNanos()
        let rssBefore = rssMB()
        var rssPeak = rssBefore
        while done < rounds, !(until?() ?? false) {
            if !update() { print("update \(round) failed") }
            done += 1
            if done % 20 == 0 { rssPeak = max(rssPeak, rssMB()) }
        }
        let complete = received.withLockedValue { state in (first...max(first, round)).filter { (state[$0]?.count ?? 0) >= fast.count }.count }
        let seconds = String(format: "%.1f", Double(nowNanos() - started) / 1e9)
        let memory = "\(Int(rssBefore)) MB -> peak \(Int(rssPeak)) MB -> \(Int(rssMB())) MB"
        print("PHASE \(name): \(done) rounds in \(seconds) s, \(complete) reached all \(fast.count) fast dashboards; " +
              "fast dashboards' latency \(phaseLatency.withLockedValue { $0 }.summary()); server RSS \(memory); " +
              "descriptors \(fds()); 4008 closes so far \(Int(metric("sos_hub_slow_consumers_closed_total")))")
        fflush(stdout)
    }
    print("\(fast.count) fast and \(slow.count) slow dashboards (every \(slowEvery)th stops reading; receive buffer 4 KB); notes of \(noteBytes) bytes")
    let closedBefore = metric("sos_hub_slow_consumers_closed_total")
    phase("A, everyone reads", rounds: options.int("rounds", 30))
    for channel in slow { _ = channel.setOption(ChannelOptions.autoRead, value: false) }
    // step: until the server has dropped every slow one (by 4008, or by its ping timeout when the queue fills more slowly
    // than a ping goes unanswered), at most `max-rounds` rounds
    phase("B, slow ones stop reading", rounds: maxRounds, until: { metric("sos_hub_connections") <= Double(fast.count) })
    Thread.sleep(forTimeInterval: 5)
    phase("C, after the slow ones were closed", rounds: options.int("rounds", 30))
    // step: the slow sockets read again: each must find its connection closed by the server
    for channel in slow { _ = channel.setOption(ChannelOptions.autoRead, value: true) }
    let deadline = nowNanos() + 15_000_000_000
    while slow.contains(where: { $0.isActive }), nowNanos() < deadline { usleep(100_000) }
    let stillOpen = slow.filter(\.isActive).count
    let fastOpen = fast.filter(\.isActive).count
    print("RESULT slow: \(Int(metric("sos_hub_slow_consumers_closed_total") - closedBefore)) of \(slow.count) slow dashboards closed with 4008 by the server " +
          "(server sockets now \(Int(metric("sos_hub_connections")))); \(stillOpen) slow ones still open seen from the client; \(fastOpen) of \(fast.count) fast ones still open")
    for channel in channels.compactMap({ $0 }) { channel.close(promise: nil) }
    Thread.sleep(forTimeInterval: 2)
    print("after closing every socket: server RSS \(Int(rssMB())) MB, descriptors \(fds())")

case "listen":
    // step: one of several processes holding dashboards (on one node each); updates from another process carry
    // their start time (wall clock, the same on every process here), so latency is measured across processes
    let count = options.int("count", 1000)
    let admins = rows(options.string("users")).filter { $0[1] == "admin" }
    let marker = Array(#""type":"appointment.updated""#.utf8)
    let roundMarker = Array("fanout-".utf8)
    let startMarker = Array("t0=".utf8)
    let received = NIOLockedValueBox([UInt64: (count: Int, max: UInt64)]())
    let latencies = Samples()
    let channels = openMany(count: count, parallel: options.int("parallel", 256), target: target, deflate: false, sources: sources, group: group,
                            token: { Tokens.mint(userId: admins[$0 % admins.count][0], role: "admin", secret: secret, lifetime: 4 * 3600) },
                            onText: { _, buffer, _, _ in
                                let arrived = UInt64(Date().timeIntervalSince1970 * 1e9)
                                guard buffer.contains(marker), let round = buffer.number(after: roundMarker), let start = buffer.number(after: startMarker),
                                      arrived > start else { return }
                                latencies.add(arrived - start)
                                received.withLockedValue { state in
                                    let current = state[round] ?? (0, 0)
                                    state[round] = (current.count + 1, max(current.max, arrived - start))
                                }
                            })
    let open = channels.compactMap { $0 }.filter(\.isActive).count
    print("HOLDING \(open)")
    fflush(stdout)
    Thread.sleep(forTimeInterval: options.double("hold", 30))
    let rounds = received.withLockedValue { $0 }
    let still = channels.compactMap { $0 }.filter(\.isActive).count
    print("LISTENED sockets=\(open) still_open=\(still) rounds=\(rounds.count) complete=\(rounds.values.filter { $0.count == open }.count) " +
          "per_round_max_ms=\(rounds.sorted { $0.key < $1.key }.map { String(format: "%.1f", Double($0.value.max) / 1e6) }.joined(separator: ","))")
    print("update → appointment.updated on a dashboard: \(latencies.summary())")
    fflush(stdout)
    for channel in channels.compactMap({ $0 }) { channel.close(promise: nil) }
    Thread.sleep(forTimeInterval: 1)

case "update":
    // step: the REST updates for `listen`: each carries its round and start time in the note
    let admins = rows(options.string("users")).filter { $0[1] == "admin" }
    let appointment = options.string("appointment")
    let adminToken = Tokens.mint(userId: admins[0][0], role: "admin", secret: secret)
    let restLatency = Samples()
    for round in 1...UInt64(options.int("updates", 10)) {
        var request = URLRequest(url: URL(string: "http://\(target.host):\(target.port)/api/v1/appointments/\(appointment)")!)
        request.httpMethod = "PUT"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(adminToken)", forHTTPHeaderField: "Authorization")
        let t0 = UInt64(Date().timeIntervalSince1970 * 1e9)
        request.httpBody = Data(#"{"additional_note":"fanout-\#(round) t0=\#(t0)"}"#.utf8)
        let done = DispatchSemaphore(value: 0)
        let start = nowNanos()
        URLSession.shared.dataTask(with: request) { _, response, _ in
            restLatency.add(nowNanos() - start)
            if (response as? HTTPURLResponse)?.statusCode != 200 { print("update \(round): HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)") }
            done.signal()
        }.resume()
        done.wait()
        Thread.sleep(forTimeInterval: options.double("pause", 1.5))
    }
    print("REST PUT round trip: \(restLatency.summary())")

default:
    fatalError("unknown scenario \(options.scenario)")
}
try? group.syncShutdownGracefully()
