import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SOSDomain

/// Stripe PaymentIntents and Refunds over HTTPS, form-encoded as Stripe expects, with an `Idempotency-Key` on
/// every mutating call. The API base URL is configurable so tests run it against a local fake.
struct StripePaymentProvider: PaymentProvider {
    let secretKey: String
    let apiBase: String
    let client: HTTPClient

    var kind: PaymentProviderKind { .stripe }

    func create(_ payment: Payment, idempotencyKey: String) async throws -> ProviderOutcome {
        let intent = try await self.post("/v1/payment_intents", idempotencyKey: idempotencyKey, form: [
            ("amount", String(payment.amountMinor)),
            ("currency", payment.currency.code.lowercased()),
            ("payment_method_types[]", "card"),
            ("description", "SOS Tourist Doctor appointment \(payment.appointmentId.uuidString.lowercased())"),
            ("metadata[payment_id]", payment.id.uuidString.lowercased()),
            ("metadata[appointment_id]", payment.appointmentId.uuidString.lowercased()),
        ])
        return Self.outcome(intent)
    }

    func confirm(_ payment: Payment, payload: JSON?, returnURL: String?, byStaff: Bool, idempotencyKey: String) async throws -> ProviderOutcome {
        guard let intentId = payment.stripePaymentIntentId else {
            throw DomainError.conflict("This payment has no Stripe PaymentIntent yet; create it again.")
        }
        var form: [(String, String)] = []
        if case .string(let method)? = payload?["payment_method"] { form.append(("payment_method", method)) }
        if let returnURL { form.append(("return_url", returnURL)) }
        let intent = try await self.post("/v1/payment_intents/\(Self.pathSafe(intentId))/confirm", idempotencyKey: idempotencyKey, form: form)
        return Self.outcome(intent)
    }

    func cancel(_ payment: Payment, idempotencyKey: String) async throws -> ProviderOutcome {
        guard let intentId = payment.stripePaymentIntentId else {
            return ProviderOutcome(status: .failed, providerStatus: "canceled")
        }
        let intent = try await self.post("/v1/payment_intents/\(Self.pathSafe(intentId))/cancel", idempotencyKey: idempotencyKey, form: [])
        return Self.outcome(intent)
    }

    func refund(_ payment: Payment, amountMinor: Int64, reason: String?, idempotencyKey: String) async throws -> ProviderRefund {
        guard let intentId = payment.stripePaymentIntentId else {
            throw DomainError.conflict("This payment has no Stripe PaymentIntent to refund.")
        }
        var form: [(String, String)] = [("payment_intent", intentId), ("amount", String(amountMinor))]
        if let reason {
            if ["duplicate", "fraudulent", "requested_by_customer"].contains(reason) { form.append(("reason", reason)) }
            form.append(("metadata[reason]", String(reason.prefix(500))))
        }
        let refund = try await self.post("/v1/refunds", idempotencyKey: idempotencyKey, form: form)
        guard case .string(let id)? = refund["id"] else {
            throw DomainError(.upstreamFailure, message: "Payment provider error", details: "Stripe answered a refund without an id.")
        }
        let amount: Int64 = if case .number(let value)? = refund["amount"] { Int64(value) } else { amountMinor }
        let status: String = if case .string(let value)? = refund["status"] { value } else { "pending" }
        return ProviderRefund(id: id, amountMinor: amount, status: status)
    }

    /// Maps a PaymentIntent to our status.
    static func outcome(_ intent: JSON) -> ProviderOutcome {
        let status: String = if case .string(let value)? = intent["status"] { value } else { "unknown" }
        var lastError: String?
        if case .string(let message)? = intent["last_payment_error"]?["message"] { lastError = message }
        let mapped: PaymentStatus =
            switch status {
            case "succeeded": .succeeded
            case "processing", "requires_action", "requires_capture": .processing
            case "canceled": .failed
            case "requires_payment_method" where lastError != nil: .failed
            default: .pending
            }
        var intentId: String?
        if case .string(let id)? = intent["id"] { intentId = id }
        var secret: String?
        if case .string(let value)? = intent["client_secret"] { secret = value }
        var charge: String?
        if case .string(let value)? = intent["latest_charge"] { charge = value }
        return ProviderOutcome(
            status: mapped, providerStatus: status, intentId: intentId, clientSecret: secret, chargeId: charge,
            errorMessage: mapped == .failed ? (lastError ?? (status == "canceled" ? "Cancelled at Stripe." : nil)) : nil,
            received: mapped == .succeeded ? Self.received(intent) : nil
        )
    }

    /// Stripe's `amount_received` and `currency` of an intent (absent fields read as nothing received).
    static func received(_ intent: JSON) -> ProviderOutcome.Received {
        let amount: Int64 = if case .number(let value)? = intent["amount_received"] { Int64(value) } else { 0 }
        let currency: String = if case .string(let value)? = intent["currency"] { value } else { "" }
        return ProviderOutcome.Received(amountMinor: amount, currency: currency)
    }

    /// POSTs a form and returns the JSON answer; Stripe errors become domain errors (card declined → 402).
    private func post(_ path: String, idempotencyKey: String, form: [(String, String)]) async throws -> JSON {
        var request = HTTPClientRequest(url: self.apiBase.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(self.secretKey)")
        request.headers.add(name: "Idempotency-Key", value: idempotencyKey)
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Stripe-Version", value: "2024-06-20")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await self.client.execute(request, timeout: .seconds(20))
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw DomainError(.upstreamFailure, message: "Payment provider unavailable", details: "Stripe could not be reached: \(error). Try again shortly.")
        }
        let json = (try? JSONDecoder().decode(JSON.self, from: Data(buffer: body))) ?? .null
        guard (200..<300).contains(response.status.code) else {
            var message = "Stripe answered \(response.status.code)."
            if case .string(let text)? = json["error"]?["message"] { message = text }
            let type: String = if case .string(let value)? = json["error"]?["type"] { value } else { "" }
            switch (response.status.code, type) {
            case (402, _), (_, "card_error"):
                throw DomainError(.paymentRequired, message: "Payment declined", details: message)
            case (400, _), (404, _):
                throw DomainError(.invalid, message: "Payment rejected by Stripe", details: message)
            default:
                throw DomainError(.upstreamFailure, message: "Payment provider error", details: message)
            }
        }
        return json
    }

    /// Intent ids are `pi_` plus letters and digits; anything else could reach another Stripe path.
    static func pathSafe(_ id: String) -> String {
        String(id.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
    }
}

/// `application/x-www-form-urlencoded` bodies (RFC 3986 unreserved characters kept, the rest percent-encoded).
enum FormEncoding {
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? ""
    }
}
