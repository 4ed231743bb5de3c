import Crypto
import Foundation
import SOSDomain

/// Verifies `Stripe-Signature` (HMAC-SHA256 of `t.payload`, constant-time, 5-minute tolerance, any `v1` may
/// match) and turns an event into a `PaymentWebhook`.
struct StripeWebhook {
    let secret: String
    var tolerance: TimeInterval = 300

    struct Event {
        let id: String
        let type: String
        let webhook: PaymentWebhook
    }

    func verify(payload: [UInt8], header: String?, now: Date) throws {
        guard let header, !header.isEmpty else {
            throw DomainError.invalid("The Stripe-Signature header is missing.")
        }
        var timestamp: TimeInterval?
        var signatures: [[UInt8]] = []
        for item in header.split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = TimeInterval(pair[1]) }
            if pair[0] == "v1", let bytes = Self.hexBytes(pair[1]) { signatures.append(bytes) }
        }
        guard let timestamp, !signatures.isEmpty else {
            throw DomainError.invalid("The Stripe-Signature header must carry t=<timestamp> and at least one v1=<signature>.")
        }
        guard abs(now.timeIntervalSince1970 - timestamp) <= self.tolerance else {
            throw DomainError.invalid("The Stripe-Signature timestamp is outside the 5-minute tolerance; the event may be replayed.")
        }
        let signed = Array("\(Int(timestamp)).".utf8) + payload
        let expected = Array(HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(self.secret.utf8))))
        guard signatures.contains(where: { Self.constantTimeEqual($0, expected) }) else {
            throw DomainError.invalid("The Stripe-Signature does not match this payload.")
        }
    }

    /// Parses a verified event body.
    static func parse(_ payload: [UInt8]) throws -> Event {
        guard let json = try? JSONDecoder().decode(JSON.self, from: Data(payload)),
              case .string(let id)? = json["id"], case .string(let type)? = json["type"]
        else {
            throw DomainError.invalid("The webhook body is not a Stripe event (id and type are required).")
        }
        let object = json["data"]?["object"] ?? .null
        func string(_ value: JSON?) -> String? { if case .string(let text)? = value { text } else { nil } }
        let paymentId = string(object["metadata"]?["payment_id"]).flatMap(UUID.init(uuidString:))
        let webhook: PaymentWebhook
        switch type {
        case "payment_intent.succeeded":
            webhook = .succeeded(intentId: string(object["id"]) ?? "", paymentId: paymentId, chargeId: string(object["latest_charge"]),
                                 received: StripePaymentProvider.received(object))
        case "payment_intent.payment_failed":
            webhook = .failed(intentId: string(object["id"]) ?? "", paymentId: paymentId,
                              message: string(object["last_payment_error"]?["message"]) ?? "The payment failed at Stripe.")
        case "payment_intent.canceled":
            webhook = .canceled(intentId: string(object["id"]) ?? "", paymentId: paymentId)
        case "charge.refunded":
            let amount: Int64 = if case .number(let value)? = object["amount_refunded"] { Int64(value) } else { 0 }
            var refundId: String?
            if case .array(let refunds)? = object["refunds"]?["data"], let first = refunds.first { refundId = string(first["id"]) }
            webhook = .refunded(intentId: string(object["payment_intent"]) ?? "", paymentId: paymentId, amountRefundedMinor: amount, refundId: refundId)
        default:
            webhook = .ignored
        }
        return Event(id: id, type: type, webhook: webhook)
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
