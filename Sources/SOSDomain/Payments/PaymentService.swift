import Foundation
import Logging

/// What a client sends to start a payment (`POST /payments`).
public struct NewPayment: Sendable {
    public var appointmentId: UUID
    public var amount: Double
    public var currency: String?
    public var method: PaymentMethod?

    public init(appointmentId: UUID, amount: Double, currency: String? = nil, method: PaymentMethod? = nil) {
        self.appointmentId = appointmentId
        self.amount = amount
        self.currency = currency
        self.method = method
    }
}

extension NewPayment: IdempotentRequest {
    public var canonicalText: String {
        JSON.array([.string(self.appointmentId.uuidString), .number(self.amount), .string(self.currency ?? ""), .string(self.method?.rawValue ?? "")]).text
    }
}

/// A provider's webhook event, already verified and parsed at the edge.
public enum PaymentWebhook: Sendable, Equatable {
    case succeeded(intentId: String, paymentId: UUID?, chargeId: String?, received: ProviderOutcome.Received?)
    case failed(intentId: String, paymentId: UUID?, message: String)
    case canceled(intentId: String, paymentId: UUID?)
    case refunded(intentId: String, paymentId: UUID?, amountRefundedMinor: Int64, refundId: String?)
    case ignored
}

/// Payments for appointments: manual (cash, bank, mobile money) and Stripe (cards).
///
/// Rules: a payment belongs to an appointment of the payer (staff may create one for a patient); its amount is the
/// appointment's fee, which the server fixed at booking — a client that sends another amount or currency is told
/// the fee; a provider's success counts only when it collected exactly that; one open or paid payment per
/// appointment; amounts in the currency's minor units; statuses follow `PaymentStateMachine`; refunds never
/// exceed what was paid, even when they race; the appointment follows (succeeded → payment_completed, failed →
/// payment_failed), and money taken for a cancelled appointment is refunded; every change is an event and an
/// in-app notification.
public struct PaymentService: Sendable {
    let payments: any PaymentRepository
    let appointmentStore: any AppointmentRepository
    let appointments: AppointmentService
    let users: any UserRepository
    let notifications: NotificationService
    let notificationStore: any NotificationRepository
    let events: any EventPublisher
    let manual: any PaymentProvider
    let stripe: (any PaymentProvider)?
    let logger: Logger
    let now: @Sendable () -> Date

    public init(
        payments: any PaymentRepository, appointmentStore: any AppointmentRepository, appointments: AppointmentService, users: any UserRepository,
        notifications: NotificationService, notificationStore: any NotificationRepository, events: any EventPublisher,
        manual: any PaymentProvider = ManualPaymentProvider(), stripe: (any PaymentProvider)?, logger: Logger = Logger(label: "sos.payments"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.payments = payments
        self.appointmentStore = appointmentStore
        self.appointments = appointments
        self.users = users
        self.notifications = notifications
        self.notificationStore = notificationStore
        self.events = events
        self.manual = manual
        self.stripe = stripe
        self.logger = logger
        self.now = now
    }

    // MARK: - Creating and reading

    /// Starts a payment. With `idempotencyKey`, a retry of the same request gets the payment the first one created (and
    /// the provider's answer for it again: Stripe returns the same PaymentIntent for the same key) and creates nothing.
    public func create(_ principal: Principal, _ input: NewPayment, idempotencyKey: String? = nil) async throws -> (Payment, ProviderOutcome) {
        let idempotency = try idempotencyKey.map { try IdempotencyKey($0, owner: principal.id, endpoint: Self.creationEndpoint, request: input) }
        if let idempotency, let earlier = try await self.earlierPayment(idempotency) { return earlier }
        guard let appointment = try await self.appointmentStore.find(id: input.appointmentId),
              let actor = AccessPolicy.actor(for: appointment, principal), actor == .patient || actor == .staff
        else {
            throw DomainError.notFound("No appointment with id \(input.appointmentId.uuidString.lowercased()) that you can pay for.")
        }
        guard appointment.status != .cancelled else {
            throw DomainError.conflict("This appointment is cancelled (\(appointment.cancellationReason ?? "no reason given")); it takes no payment.")
        }
        guard appointment.status != .paymentCompleted else {
            throw DomainError.conflict("This appointment is 'payment_completed'; it is already paid.")
        }
        guard let fee = appointment.fee else {
            throw DomainError.conflict("This appointment was booked before fees existed and has no price on record; the clinic records its payment.")
        }
        let currency = try Currency(input.currency ?? fee.currency.code)
        let amountMinor = try currency.minorUnits(input.amount)
        guard currency == fee.currency, amountMinor == fee.amountMinor else {
            throw DomainError.invalid("This consultation costs \(fee.text) (the doctor's fee, fixed when it was booked); send amount \(Self.number(fee.amount)) and currency \(fee.currency.code) (got \(Self.number(input.amount)) \(currency.code)).")
        }
        let method = input.method ?? .card
        let provider = self.provider(for: method)
        let now = self.now()
        var payment = Payment(
            appointmentId: appointment.id, userId: appointment.patientId, amountMinor: amountMinor, currency: currency, method: method,
            provider: provider.kind, metadata: .object(["created_by": .string(principal.id.uuidString.lowercased())]), createdAt: now, updatedAt: now
        )
        if let existing = try await self.payments.insertIfNoneOpen(payment, idempotency: idempotency) {
            // step: a concurrent request with the same key may have been the one that stored it
            if let idempotency, let earlier = try await self.earlierPayment(idempotency) { return earlier }
            throw DomainError.conflict("This appointment already has a \(existing.status.rawValue) payment (\(existing.id.uuidString.lowercased())); confirm or cancel it first.")
        }
        if appointment.status == .paymentFailed {
            try await self.appointments.applyPaymentOutcome(appointmentId: appointment.id, status: .pendingPayment)
        }
        let outcome: ProviderOutcome
        do {
            outcome = try await provider.create(payment, idempotencyKey: Self.providerKey(payment))
        } catch {
            _ = try? await self.fail(payment, message: "The payment provider refused the payment: \(Self.message(error))")
            throw error
        }
        if let intent = outcome.intentId {
            try await self.payments.setIntent(id: payment.id, intentId: intent, at: now)
            payment.stripePaymentIntentId = intent
        }
        if provider.kind == .manual {
            // step: paid at the clinic, so the booking waits for staff rather than for a card (BookingRules)
            try await self.appointments.holdForClinic(appointmentId: appointment.id)
        }
        await self.announce(payment, previous: nil)
        return (payment, outcome)
    }

    static let creationEndpoint = "POST /api/v1/payments"

    static func providerKey(_ payment: Payment) -> String {
        "payment-\(payment.id.uuidString.lowercased())-create"
    }

    /// The payment an earlier request with this key created and the provider's answer for it, nil when the key is new.
    /// The provider is asked again with the payment's own key, so a request cut off after the payment was stored but
    /// before the provider was reached completes now.
    private func earlierPayment(_ idempotency: IdempotencyKey) async throws -> (Payment, ProviderOutcome)? {
        guard let id = try await idempotency.earlier(in: self.payments) else { return nil }
        guard var payment = try await self.payments.find(id: id) else {
            throw DomainError.conflict("The payment created with Idempotency-Key '\(idempotency.key)' no longer exists; use a new key.")
        }
        let outcome = try await self.provider(of: payment).create(payment, idempotencyKey: Self.providerKey(payment))
        if payment.stripePaymentIntentId == nil, let intent = outcome.intentId {
            try await self.payments.setIntent(id: payment.id, intentId: intent, at: self.now())
            payment.stripePaymentIntentId = intent
        }
        return (payment, outcome)
    }

    public func list(_ principal: Principal, _ query: PaymentQuery) async throws -> Page<PaymentDetails> {
        var query = query
        guard let scope = AccessPolicy.paymentScope(principal) else { throw DomainError.forbidden(Permission.seePayments.refusal) }
        query.scope = scope
        if query.userId != nil { try AccessPolicy.require(.filterPaymentsByPatient, principal) }
        return try await self.payments.list(query)
    }

    public func get(_ principal: Principal, id: UUID) async throws -> PaymentDetails {
        guard let details = try await self.payments.details(id: id), try await self.canSee(details.payment, principal) else {
            throw DomainError.notFound("No payment with id \(id.uuidString.lowercased()).")
        }
        return details
    }

    // MARK: - Confirming, cancelling, refunding

    public func confirm(_ principal: Principal, id: UUID, payload: JSON?, returnURL: String?) async throws -> (Payment, String) {
        _ = try InputLimits.json(payload, field: "providerPayload", maxBytes: InputLimits.providerPayloadBytes)
        if let returnURL {
            guard returnURL.count <= InputLimits.url, returnURL.hasPrefix("https://") || returnURL.hasPrefix("http://") else {
                throw DomainError.invalid("'returnUrl' must be an http(s) URL of at most \(InputLimits.url) characters.")
            }
        }
        let (payment, actor) = try await self.owned(principal, id)
        guard payment.status.isOpen else {
            throw DomainError.conflict("This payment is '\(payment.status.rawValue)'; only pending or processing payments can be confirmed.")
        }
        if let appointment = try await self.appointmentStore.find(id: payment.appointmentId), appointment.status == .cancelled {
            throw DomainError.conflict("The appointment of this payment is cancelled (\(appointment.cancellationReason ?? "no reason given")); cancel the payment instead of confirming it.")
        }
        let provider = self.provider(of: payment)
        let outcome: ProviderOutcome
        do {
            outcome = try await provider.confirm(
                payment, payload: payload, returnURL: returnURL, byStaff: actor == .staff,
                idempotencyKey: "payment-\(payment.id.uuidString.lowercased())-confirm-\(Int(self.now().timeIntervalSince1970))"
            )
        } catch let error as DomainError where error.kind == .paymentRequired {
            _ = try await self.fail(payment, message: error.details)
            throw error
        }
        let updated = try await self.apply(outcome, to: payment)
        return (updated, outcome.providerStatus)
    }

    public func cancel(_ principal: Principal, id: UUID) async throws -> Payment {
        let (payment, actor) = try await self.owned(principal, id)
        guard payment.status.isOpen else {
            throw DomainError.conflict("This payment is '\(payment.status.rawValue)'; only pending or processing payments can be cancelled.")
        }
        _ = try await self.provider(of: payment).cancel(payment, idempotencyKey: "payment-\(payment.id.uuidString.lowercased())-cancel")
        let by = actor == .staff ? "clinic staff" : "the patient"
        return try await self.fail(payment, message: "Cancelled by \(by).") ?? payment
    }

    public func refund(_ principal: Principal, id: UUID, amount: Double?, reason: String?) async throws -> (Payment, ProviderRefund) {
        try AccessPolicy.require(.refundPayments, principal)
        let (payment, _) = try await self.owned(principal, id)
        guard payment.status == .succeeded || payment.status == .partiallyRefunded else {
            throw DomainError.conflict("This payment is '\(payment.status.rawValue)'; only succeeded payments can be refunded.")
        }
        let remaining = payment.refundableMinor
        let amountMinor = try amount.map { try payment.currency.minorUnits($0) } ?? remaining
        guard amountMinor <= remaining, amountMinor > 0 else {
            throw DomainError.invalid("The refund (\(payment.currency.majorUnits(amountMinor)) \(payment.currency.code)) exceeds what can still be refunded (\(payment.currency.majorUnits(remaining)) \(payment.currency.code)).")
        }
        _ = try InputLimits.text(reason, field: "reason", limit: InputLimits.shortText)
        guard try await self.payments.reserveRefund(id: payment.id, amountMinor: amountMinor) else {
            throw DomainError.conflict("Another refund changed this payment meanwhile; the amount would exceed what was paid. Reload and retry.")
        }
        let refund: ProviderRefund
        do {
            refund = try await self.provider(of: payment).refund(
                payment, amountMinor: amountMinor, reason: reason,
                idempotencyKey: "payment-\(payment.id.uuidString.lowercased())-refund-\(payment.refundedMinor)-\(amountMinor)"
            )
        } catch {
            try await self.payments.releaseRefund(id: payment.id, amountMinor: amountMinor)
            throw error
        }
        guard let updated = try await self.payments.completeRefund(id: payment.id, refundedAtLeast: 0, refundId: refund.id, reason: reason, at: self.now()) else {
            throw DomainError.notFound("No payment with id \(id.uuidString.lowercased()).")
        }
        await self.announce(updated, previous: payment)
        return (updated, refund)
    }

    // MARK: - Webhooks

    /// Applies a verified provider event once: a replayed event id changes nothing. Returns false for a replay.
    @discardableResult
    public func handleWebhook(eventId: String, type: String, event: PaymentWebhook) async throws -> Bool {
        guard !(try await self.payments.hasEvent(id: eventId)) else { return false }
        switch event {
        case .ignored:
            break
        case .succeeded(let intentId, let paymentId, let chargeId, let received):
            if var payment = try await self.lookup(intentId: intentId, paymentId: paymentId) {
                payment.stripePaymentIntentId = payment.stripePaymentIntentId ?? intentId
                if payment.status.isOpen {
                    _ = try await self.apply(ProviderOutcome(status: .succeeded, providerStatus: "succeeded", chargeId: chargeId, received: received), to: payment)
                } else if payment.status == .failed {
                    try await self.refundAfterGivingUp(payment, received: received)
                }
            }
        case .failed(let intentId, let paymentId, let message):
            if let payment = try await self.lookup(intentId: intentId, paymentId: paymentId), payment.status.isOpen {
                _ = try await self.fail(payment, message: message)
            }
        case .canceled(let intentId, let paymentId):
            if let payment = try await self.lookup(intentId: intentId, paymentId: paymentId), payment.status.isOpen {
                _ = try await self.fail(payment, message: "Cancelled at the payment provider.")
            }
        case .refunded(let intentId, let paymentId, let amount, let refundId):
            if let payment = try await self.lookup(intentId: intentId, paymentId: paymentId), payment.status.isPaid,
               let updated = try await self.payments.completeRefund(id: payment.id, refundedAtLeast: min(amount, payment.amountMinor), refundId: refundId, reason: nil, at: self.now()),
               updated != payment {
                await self.announce(updated, previous: payment)
            }
        }
        return try await self.payments.recordEvent(id: eventId, type: type, at: self.now())
    }

    // MARK: - Helpers

    func provider(for method: PaymentMethod) -> any PaymentProvider {
        method == .card ? (self.stripe ?? self.manual) : self.manual
    }

    func provider(of payment: Payment) -> any PaymentProvider {
        payment.provider == .stripe ? (self.stripe ?? self.manual) : self.manual
    }

    private func lookup(intentId: String, paymentId: UUID?) async throws -> Payment? {
        if let found = try await self.payments.find(intentId: intentId) { return found }
        return try await paymentId.asyncFlatMap { try await self.payments.find(id: $0) }
    }

    /// The payment and the caller's part: its payer or staff; anyone else gets 404.
    private func owned(_ principal: Principal, _ id: UUID) async throws -> (Payment, AppointmentStateMachine.Actor) {
        guard let payment = try await self.payments.find(id: id), let appointment = try await self.appointmentStore.find(id: payment.appointmentId),
              let actor = AccessPolicy.actor(for: appointment, principal)
        else {
            throw DomainError.notFound("No payment with id \(id.uuidString.lowercased()).")
        }
        switch actor {
        case .patient where payment.userId == principal.id: return (payment, actor)
        case .staff: return (payment, actor)
        case .doctor: throw DomainError.forbidden("Doctors cannot change payments; clinic staff can.")
        default: throw DomainError.notFound("No payment with id \(id.uuidString.lowercased()).")
        }
    }

    /// The payer, admins, and the doctor of the appointment or his secretaries.
    private func canSee(_ payment: Payment, _ principal: Principal) async throws -> Bool {
        if AccessPolicy.sees(payment, of: nil, principal) { return true }
        return AccessPolicy.sees(payment, of: try await self.appointmentStore.find(id: payment.appointmentId), principal)
    }

    /// Saves a provider outcome; the appointment follows a success or a failure. A success for another amount or
    /// currency than the payment's (the fee) is not applied: the payment stays open with the discrepancy in
    /// `error_message` for staff to resolve, and it is logged.
    private func apply(_ outcome: ProviderOutcome, to payment: Payment) async throws -> Payment {
        var updated = payment
        guard PaymentStateMachine.allows(payment.status, outcome.status) else { return payment }
        if outcome.status == .succeeded, let received = outcome.received,
           received.amountMinor != payment.amountMinor || received.currency.uppercased() != payment.currency.code {
            let got = (try? Currency(received.currency)).map { Fee(amountMinor: received.amountMinor, currency: $0).text } ?? "\(received.amountMinor) \(received.currency)"
            let expected = Fee(amountMinor: payment.amountMinor, currency: payment.currency).text
            self.logger.error("Payment provider collected another amount than the fee; the appointment stays unpaid",
                              metadata: ["payment_id": "\(payment.id.uuidString.lowercased())", "received": "\(got)", "fee": "\(expected)"])
            updated.errorMessage = "The provider reports \(got) received, not the fee of \(expected); the appointment stays unpaid until the clinic resolves it."
            updated.updatedAt = self.now()
            _ = try await self.payments.transition(updated, from: payment.status)
            return updated
        }
        updated.status = outcome.status
        updated.stripeChargeId = outcome.chargeId ?? payment.stripeChargeId
        updated.errorMessage = outcome.errorMessage ?? payment.errorMessage
        updated.updatedAt = self.now()
        if outcome.status == .succeeded { updated.paidAt = updated.paidAt ?? updated.updatedAt }
        guard updated != payment else { return payment }
        guard try await self.payments.transition(updated, from: payment.status) else {
            return try await self.payments.find(id: payment.id) ?? payment
        }
        try await self.followAppointment(updated)
        await self.announce(updated, previous: payment)
        return updated
    }

    /// Ends an open payment as failed with a message; nil if it was no longer open.
    @discardableResult
    private func fail(_ payment: Payment, message: String) async throws -> Payment? {
        var updated = payment
        updated.status = .failed
        updated.errorMessage = message
        updated.updatedAt = self.now()
        guard try await self.payments.transition(updated, from: payment.status) else { return nil }
        try await self.followAppointment(updated)
        await self.announce(updated, previous: payment)
        return updated
    }

    private func followAppointment(_ payment: Payment) async throws {
        switch payment.status {
        case .succeeded:
            do {
                try await self.appointments.applyPaymentOutcome(appointmentId: payment.appointmentId, status: .paymentCompleted)
            } catch let refused as PaymentOutcomeRefused {
                try await self.refundForCancelled(payment, appointment: refused.appointment)
            }
        case .failed: try? await self.appointments.applyPaymentOutcome(appointmentId: payment.appointmentId, status: .paymentFailed)
        default: break
        }
    }

    /// Money arrived for an appointment that was cancelled meanwhile (its hold ended, or someone cancelled it while
    /// the card was being charged): it is refunded in full at once. If the provider refuses, the payment keeps a
    /// message saying so for staff, and the failure is logged; the caller (often a webhook) still succeeds.
    private func refundForCancelled(_ payment: Payment, appointment: Appointment) async throws {
        let reason = "appointment_cancelled"
        do {
            guard try await self.payments.reserveRefund(id: payment.id, amountMinor: payment.refundableMinor) else { return }
            let refund = try await self.provider(of: payment).refund(
                payment, amountMinor: payment.refundableMinor, reason: reason,
                idempotencyKey: "payment-\(payment.id.uuidString.lowercased())-refund-cancelled"
            )
            if let updated = try await self.payments.completeRefund(id: payment.id, refundedAtLeast: 0, refundId: refund.id, reason: reason, at: self.now()) {
                self.logger.notice("Refunded a payment that arrived for a cancelled appointment", metadata: ["payment_id": "\(payment.id.uuidString.lowercased())"])
                await self.announce(updated, previous: payment)
            }
        } catch {
            try? await self.payments.releaseRefund(id: payment.id, amountMinor: payment.refundableMinor)
            var flagged = payment
            flagged.errorMessage = "Paid after the appointment was cancelled; the automatic refund failed (\(Self.message(error))). Refund it from the dashboard."
            flagged.updatedAt = self.now()
            _ = try? await self.payments.transition(flagged, from: payment.status)
            self.logger.error("Automatic refund of a payment for a cancelled appointment failed",
                              metadata: ["payment_id": "\(payment.id.uuidString.lowercased())", "error": "\(Self.message(error))"])
        }
    }

    /// A major-unit amount as a client writes it: `45`, `45.5`.
    static func number(_ amount: Double) -> String {
        amount == amount.rounded() && abs(amount) < 1e15 ? String(Int64(amount)) : String(amount)
    }

    func announce(_ payment: Payment, previous: Payment?) async {
        guard let appointment = try? await self.appointmentStore.find(id: payment.appointmentId) else { return }
        let audience = (try? await self.appointments.audience(appointment)) ?? [payment.userId]
        await self.events.publish(DomainEvent(type: "payment.updated", userIds: audience.union([payment.userId]), subject: .payment(payment), occurredAt: self.now()))
        guard previous?.status != payment.status,
              (try? await self.notificationStore.preferences(userId: payment.userId))?.paymentNotifications ?? true
        else { return }
        let amount = "\(payment.currency.majorUnits(payment.amountMinor)) \(payment.currency.code)"
        let text: String =
            switch payment.status {
            case .pending: "Payment of \(amount) started for your appointment on \(appointment.date)."
            case .processing: "Payment of \(amount) is being processed."
            case .succeeded: "Payment of \(amount) received. Thank you."
            case .failed: "Payment of \(amount) did not go through: \(payment.errorMessage ?? "failed")."
            case .refunded: "Payment of \(amount) was refunded."
            case .partiallyRefunded: "\(payment.currency.majorUnits(payment.refundedMinor)) \(payment.currency.code) of your payment was refunded."
            }
        try? await self.notifications.notify([payment.userId], type: "payment.\(payment.status.rawValue)", title: "Payment \(payment.status.rawValue.replacingOccurrences(of: "_", with: " "))",
                                             body: text, data: .object(["payment_id": .string(payment.id.uuidString.lowercased())]))
    }

    static func message(_ error: any Error) -> String {
        (error as? DomainError)?.details ?? "\(error)"
    }
}

extension Optional {
    /// `flatMap` with an async transform.
    func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
