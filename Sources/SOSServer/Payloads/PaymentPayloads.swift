import Foundation
import Hummingbird
import SOSDomain

/// The seed's payment object; list and detail views add `user` and `appointment`.
struct PaymentPayload: Encodable, Sendable {
    struct AppointmentPart: Encodable, Sendable {
        struct DoctorPart: Encodable, Sendable {
            let name: String
            let specialisation: String
        }

        let id: String
        let date: LocalDate
        let start_time: LocalTime
        let consultation_type: ConsultationType
        let doctor: DoctorPart?
    }

    let id: String
    let appointment_id: String
    let user_id: String
    let amount: Double
    let currency: String
    let status: PaymentStatus
    let payment_method: PaymentMethod
    let stripe_payment_intent_id: Nullable<String>
    let stripe_charge_id: Nullable<String>
    let stripe_refund_id: Nullable<String>
    let refund_amount: Nullable<Double>
    let refund_reason: Nullable<String>
    let metadata: Nullable<JSON>
    let error_message: Nullable<String>
    let paid_at: Nullable<Date>
    let refunded_at: Nullable<Date>
    let created_at: Date
    let updated_at: Date
    let user: PersonPayload?
    let appointment: AppointmentPart?

    init(_ payment: Payment, details: PaymentDetails? = nil, withDoctor: Bool = false) {
        self.id = payment.id.apiString
        self.appointment_id = payment.appointmentId.apiString
        self.user_id = payment.userId.apiString
        self.amount = payment.currency.majorUnits(payment.amountMinor)
        self.currency = payment.currency.code
        self.status = payment.status
        self.payment_method = payment.method
        self.stripe_payment_intent_id = Nullable(payment.stripePaymentIntentId)
        self.stripe_charge_id = Nullable(payment.stripeChargeId)
        self.stripe_refund_id = Nullable(payment.stripeRefundId)
        self.refund_amount = Nullable(payment.refundedMinor > 0 ? payment.currency.majorUnits(payment.refundedMinor) : nil)
        self.refund_reason = Nullable(payment.refundReason)
        self.metadata = Nullable(payment.metadata)
        self.error_message = Nullable(payment.errorMessage)
        self.paid_at = Nullable(payment.paidAt)
        self.refunded_at = Nullable(payment.refundedAt)
        self.created_at = payment.createdAt
        self.updated_at = payment.updatedAt
        self.user = details.map { PersonPayload($0.payer) }
        self.appointment = details.map {
            AppointmentPart(
                id: $0.appointment.id.apiString, date: $0.appointment.date, start_time: $0.appointment.startTime,
                consultation_type: $0.appointment.consultationType,
                doctor: withDoctor ? AppointmentPart.DoctorPart(name: $0.doctorName, specialisation: $0.doctorSpecialisation) : nil
            )
        }
    }
}

/// `POST /payments` (201).
struct PaymentCreatedPayload: ResponseEncodable, Sendable {
    let paymentId: String
    let clientSecret: String
    let paymentIntentId: String
    let amount: Double
    let currency: String
    let status: PaymentStatus
}

struct PaymentEnvelope: ResponseEncodable, Sendable {
    let payment: PaymentPayload
}

struct PaymentListPayload: ResponseEncodable, Sendable {
    let payments: [PaymentPayload]
    let pagination: PaginationPayload
}

/// `POST /payments/:id/confirm`.
struct PaymentConfirmedPayload: ResponseEncodable, Sendable {
    let payment: PaymentPayload
    let paymentIntentStatus: String
}

/// `POST /payments/:id/refund`.
struct PaymentRefundedPayload: ResponseEncodable, Sendable {
    struct RefundPart: Encodable, Sendable {
        let id: String
        let amount: Double
        let status: String
    }

    let payment: PaymentPayload
    let refund: RefundPart
}

/// `POST /payments/webhook`.
struct WebhookReceivedPayload: ResponseEncodable, Sendable {
    let received: Bool
}
