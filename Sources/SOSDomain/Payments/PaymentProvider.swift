import Foundation

/// What a provider says about a payment after a call.
public struct ProviderOutcome: Sendable, Equatable {
    public var status: PaymentStatus
    /// The provider's own status word (Stripe's PaymentIntent status), echoed as `paymentIntentStatus`.
    public var providerStatus: String
    public var intentId: String?
    public var clientSecret: String?
    public var chargeId: String?
    public var errorMessage: String?
    /// What the provider says it collected (Stripe's `amount_received` and `currency`), for a success; nil when it
    /// does not say (the manual provider: staff confirm the fee).
    public var received: Received?

    /// An amount the provider collected, in minor units of a lower- or upper-case ISO currency code.
    public struct Received: Sendable, Equatable {
        public var amountMinor: Int64
        public var currency: String

        public init(amountMinor: Int64, currency: String) {
            self.amountMinor = amountMinor
            self.currency = currency
        }
    }

    public init(status: PaymentStatus, providerStatus: String, intentId: String? = nil, clientSecret: String? = nil, chargeId: String? = nil,
                errorMessage: String? = nil, received: Received? = nil) {
        self.status = status
        self.providerStatus = providerStatus
        self.intentId = intentId
        self.clientSecret = clientSecret
        self.chargeId = chargeId
        self.errorMessage = errorMessage
        self.received = received
    }
}

/// A refund as the provider made it.
public struct ProviderRefund: Sendable, Equatable {
    public var id: String
    public var amountMinor: Int64
    public var status: String

    public init(id: String, amountMinor: Int64, status: String) {
        self.id = id
        self.amountMinor = amountMinor
        self.status = status
    }
}

/// A payment service provider. Every mutating call carries an idempotency key so a retry never charges twice.
public protocol PaymentProvider: Sendable {
    var kind: PaymentProviderKind { get }
    func create(_ payment: Payment, idempotencyKey: String) async throws -> ProviderOutcome
    /// `byStaff`: clinic staff confirming they received the money (manual payments).
    func confirm(_ payment: Payment, payload: JSON?, returnURL: String?, byStaff: Bool, idempotencyKey: String) async throws -> ProviderOutcome
    func cancel(_ payment: Payment, idempotencyKey: String) async throws -> ProviderOutcome
    func refund(_ payment: Payment, amountMinor: Int64, reason: String?, idempotencyKey: String) async throws -> ProviderRefund
}

/// Cash, bank transfer and mobile money: nothing leaves the server; clinic staff confirm receipt.
public struct ManualPaymentProvider: PaymentProvider {
    public init() {}

    public var kind: PaymentProviderKind { .manual }

    public func create(_ payment: Payment, idempotencyKey: String) async throws -> ProviderOutcome {
        ProviderOutcome(status: .pending, providerStatus: "awaiting_confirmation")
    }

    public func confirm(_ payment: Payment, payload: JSON?, returnURL: String?, byStaff: Bool, idempotencyKey: String) async throws -> ProviderOutcome {
        byStaff
            ? ProviderOutcome(status: .succeeded, providerStatus: "succeeded")
            : ProviderOutcome(status: .processing, providerStatus: "awaiting_staff_confirmation")
    }

    public func cancel(_ payment: Payment, idempotencyKey: String) async throws -> ProviderOutcome {
        ProviderOutcome(status: .failed, providerStatus: "canceled")
    }

    public func refund(_ payment: Payment, amountMinor: Int64, reason: String?, idempotencyKey: String) async throws -> ProviderRefund {
        ProviderRefund(id: "manual_refund_\(UUID().uuidString.lowercased().prefix(18))", amountMinor: amountMinor, status: "succeeded")
    }
}
