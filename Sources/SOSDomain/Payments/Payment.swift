import Foundation

/// The seed's payment statuses. Transitions: `PaymentStateMachine`.
public enum PaymentStatus: String, DomainEnum {
    case pending
    case processing
    case succeeded
    case failed
    case refunded
    case partiallyRefunded = "partially_refunded"

    /// A payment still waiting for its outcome.
    public var isOpen: Bool { self == .pending || self == .processing }
    /// Money was taken (and maybe partly returned).
    public var isPaid: Bool { self == .succeeded || self == .partiallyRefunded || self == .refunded }
}

/// How a tourist pays.
public enum PaymentMethod: String, DomainEnum {
    case card
    case mobileMoney = "mobile_money"
    case bankTransfer = "bank_transfer"
}

/// Which provider handles a payment.
public enum PaymentProviderKind: String, Sendable, Equatable {
    case manual
    case stripe
}

/// A payment for an appointment. Amounts are integers in the currency's minor units.
public struct Payment: Sendable, Equatable {
    public var id: UUID
    public var appointmentId: UUID
    public var userId: UUID
    public var amountMinor: Int64
    public var currency: Currency
    public var status: PaymentStatus
    public var method: PaymentMethod
    public var provider: PaymentProviderKind
    public var stripePaymentIntentId: String?
    public var stripeChargeId: String?
    public var stripeRefundId: String?
    public var refundedMinor: Int64
    public var refundReason: String?
    public var metadata: JSON?
    public var errorMessage: String?
    public var paidAt: Date?
    public var refundedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID = UUID(), appointmentId: UUID, userId: UUID, amountMinor: Int64, currency: Currency, status: PaymentStatus = .pending,
        method: PaymentMethod, provider: PaymentProviderKind, stripePaymentIntentId: String? = nil, stripeChargeId: String? = nil,
        stripeRefundId: String? = nil, refundedMinor: Int64 = 0, refundReason: String? = nil, metadata: JSON? = nil, errorMessage: String? = nil,
        paidAt: Date? = nil, refundedAt: Date? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.appointmentId = appointmentId
        self.userId = userId
        self.amountMinor = amountMinor
        self.currency = currency
        self.status = status
        self.method = method
        self.provider = provider
        self.stripePaymentIntentId = stripePaymentIntentId
        self.stripeChargeId = stripeChargeId
        self.stripeRefundId = stripeRefundId
        self.refundedMinor = refundedMinor
        self.refundReason = refundReason
        self.metadata = metadata
        self.errorMessage = errorMessage
        self.paidAt = paidAt
        self.refundedAt = refundedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// What can still be refunded.
    public var refundableMinor: Int64 { self.status == .succeeded || self.status == .partiallyRefunded ? self.amountMinor - self.refundedMinor : 0 }
}

/// A payment with its payer and appointment, for list and detail views.
public struct PaymentDetails: Sendable, Equatable {
    public var payment: Payment
    public var payer: PersonSummary
    public var appointment: AppointmentSummary
    public var doctorName: String
    public var doctorSpecialisation: String

    public init(payment: Payment, payer: PersonSummary, appointment: AppointmentSummary, doctorName: String, doctorSpecialisation: String) {
        self.payment = payment
        self.payer = payer
        self.appointment = appointment
        self.doctorName = doctorName
        self.doctorSpecialisation = doctorSpecialisation
    }
}

/// Which payments a caller may see.
public enum PaymentScope: Sendable, Equatable {
    case all
    case payer(UUID)
    case doctor(UUID)
    /// A secretary: payments for the appointments of the doctors she works for.
    case doctors([UUID])
}

public enum PaymentSort: String, DomainEnum {
    case createdAt = "created_at"
    case amount
    case paidAt = "paid_at"
}

/// Filters for `GET /payments`.
public struct PaymentQuery: Sendable {
    public var page: PageRequest
    public var scope: PaymentScope
    public var status: PaymentStatus?
    public var userId: UUID?
    public var sortBy: PaymentSort
    public var sortOrder: SortOrder

    public init(page: PageRequest, scope: PaymentScope = .all, status: PaymentStatus? = nil, userId: UUID? = nil, sortBy: PaymentSort = .createdAt,
                sortOrder: SortOrder = .desc) {
        self.page = page
        self.scope = scope
        self.status = status
        self.userId = userId
        self.sortBy = sortBy
        self.sortOrder = sortOrder
    }
}

/// Who may move a payment from which status to which (documented in protocol/payment-states.md).
public enum PaymentStateMachine {
    public static let transitions: [PaymentStatus: Set<PaymentStatus>] = [
        .pending: [.processing, .succeeded, .failed],
        .processing: [.succeeded, .failed],
        .succeeded: [.partiallyRefunded, .refunded],
        .partiallyRefunded: [.partiallyRefunded, .refunded],
        .failed: [],
        .refunded: [],
    ]

    public static func allows(_ from: PaymentStatus, _ to: PaymentStatus) -> Bool {
        from == to || (Self.transitions[from]?.contains(to) ?? false)
    }
}
