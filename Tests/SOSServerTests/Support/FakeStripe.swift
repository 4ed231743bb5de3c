import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing

@testable import SOSServer

/// A local stand-in for Stripe's API: PaymentIntents (create, confirm, cancel) and Refunds, in Stripe's shapes,
/// recording every request it receives. `pm_card_chargeDeclined` is declined like Stripe's test card.
final class FakeStripe: Sendable {
    struct Received: Sendable {
        let path: String
        let authorization: String?
        let idempotencyKey: String?
        let contentType: String?
        let form: [String: String]
    }

    // @unchecked: only ever touched inside `state.withLockedValue`.
    private struct State: @unchecked Sendable {
        var received: [Received] = []
        var intents: [String: [String: Any]] = [:]
        var byKey: [String: (Int, String)] = [:]
        var counter = 0
    }

    private let state = NIOLockedValueBox(State())

    var received: [Received] { self.state.withLockedValue { $0.received } }

    /// Runs the fake on a free loopback port for the duration of `body`.
    static func run<T: Sendable>(_ body: @Sendable (String, FakeStripe) async throws -> T) async throws -> T {
        let fake = FakeStripe()
        let router = Router()
        router.post("v1/payment_intents") { request, context in try await fake.handle(request, context: context) }
        router.post("v1/payment_intents/:id/confirm") { request, context in try await fake.handle(request, context: context) }
        router.post("v1/payment_intents/:id/cancel") { request, context in try await fake.handle(request, context: context) }
        router.post("v1/refunds") { request, context in try await fake.handle(request, context: context) }
        return try await withLoopbackServer(router) { base in try await body(base, fake) }
    }

    private func handle(_ request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
        var form: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            form[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        let path = request.uri.path
        let key = request.headers[.init("Idempotency-Key")!]
        let (status, json) = self.state.withLockedValue { state -> (Int, String) in
            state.received.append(Received(path: path, authorization: request.headers[.authorization], idempotencyKey: key,
                                           contentType: request.headers[.contentType], form: form))
            if let key, let previous = state.byKey[key] { return previous }
            let answer = Self.answer(path: path, form: form, state: &state)
            if let key { state.byKey[key] = answer }
            return answer
        }
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    private static func answer(path: String, form: [String: String], state: inout State) -> (Int, String) {
        func encode(_ object: [String: Any]) -> String { String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self) }
        func error(_ status: Int, _ type: String, _ code: String, _ message: String) -> (Int, String) {
            (status, encode(["error": ["type": type, "code": code, "message": message]]))
        }
        state.counter += 1
        let parts = path.split(separator: "/")
        if path == "/v1/payment_intents" {
            guard let amount = Int(form["amount"] ?? ""), amount > 0 else { return error(400, "invalid_request_error", "parameter_missing", "Missing amount") }
            let id = "pi_fake\(state.counter)"
            var metadata: [String: String] = [:]
            for (key, value) in form where key.hasPrefix("metadata[") { metadata[String(key.dropFirst(9).dropLast())] = value }
            let intent: [String: Any] = [
                "id": id, "object": "payment_intent", "amount": amount, "currency": form["currency"] ?? "", "status": "requires_payment_method",
                "client_secret": "\(id)_secret_\(state.counter)", "metadata": metadata, "latest_charge": NSNull(),
            ]
            state.intents[id] = intent
            return (200, encode(intent))
        }
        if parts.count == 4, parts[1] == "payment_intents", var intent = state.intents[String(parts[2])] {
            if parts[3] == "confirm" {
                if form["payment_method"] == "pm_card_chargeDeclined" {
                    intent["status"] = "requires_payment_method"
                    intent["last_payment_error"] = ["message": "Your card was declined.", "code": "card_declined"]
                    state.intents[String(parts[2])] = intent
                    return error(402, "card_error", "card_declined", "Your card was declined.")
                }
                intent["status"] = "succeeded"
                intent["amount_received"] = intent["amount"]
                intent["latest_charge"] = "ch_fake\(state.counter)"
            } else {
                intent["status"] = "canceled"
            }
            state.intents[String(parts[2])] = intent
            return (200, encode(intent))
        }
        if path == "/v1/refunds" {
            guard let intent = state.intents[form["payment_intent"] ?? ""], let amount = Int(form["amount"] ?? "") else {
                return error(400, "invalid_request_error", "resource_missing", "No such payment_intent")
            }
            let refunded = (intent["refunded"] as? Int) ?? 0
            guard refunded + amount <= (intent["amount"] as? Int ?? 0) else {
                return error(400, "invalid_request_error", "amount_too_large", "Refund amount is greater than unrefunded amount on charge")
            }
            var updated = intent
            updated["refunded"] = refunded + amount
            state.intents[form["payment_intent"] ?? ""] = updated
            return (200, encode(["id": "re_fake\(state.counter)", "object": "refund", "amount": amount, "status": "succeeded", "payment_intent": intent["id"] ?? ""]))
        }
        return error(404, "invalid_request_error", "resource_missing", "Unknown path \(path)")
    }
}

/// Signs a webhook body the way Stripe does.
func stripeSignature(_ payload: String, secret: String, timestamp: Int = Int(Date().timeIntervalSince1970)) -> String {
    let mac = HMACHex.sha256(key: secret, message: "\(timestamp).\(payload)")
    return "t=\(timestamp),v1=\(mac)"
}

import Crypto

enum HMACHex {
    static func sha256(key: String, message: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(key.utf8))).map { String(format: "%02x", $0) }.joined()
    }
}

/// Runs `router` on a free loopback port for the duration of `body`, which gets the base URL.
func withLoopbackServer<T: Sendable>(_ router: Router<BasicRequestContext>, _ body: @Sendable (String) async throws -> T) async throws -> T {
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    var logger = Logger(label: "fake-server")
    logger.logLevel = .critical
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger
    )
    let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        do {
            let value = try await body("http://127.0.0.1:\(port)")
            await group.triggerGracefulShutdown()
            return value
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
    }
}
