import Foundation
import Hummingbird
import SOSDomain

/// `/api/v1/payments`: payments, confirmation, cancellation, refunds, and the public Stripe webhook.
struct PaymentController {
    let payments: PaymentService
    /// Verifies webhooks; nil when `STRIPE_WEBHOOK_SECRET` is not set.
    let webhook: StripeWebhook?

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get(use: self.list)
        group.post(use: self.create)
        group.get(":id", use: self.get)
        group.post(":id/confirm", use: self.confirm)
        group.post(":id/cancel", use: self.cancel)
        group.post(":id/refund", use: self.refund)
    }

    func addPublicRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("webhook", use: self.receive)
    }

    struct CreateBody: Decodable {
        let appointment_id: UUID
        let amount: Double
        let currency: String?
        let payment_method: PaymentMethod?
    }

    struct ConfirmBody: Decodable {
        let providerPayload: JSON?
        let returnUrl: String?
    }

    struct RefundBody: Decodable {
        let amount: Double?
        let reason: String?
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> PaymentListPayload {
        let query = QueryParameters(request)
        let page = try await self.payments.list(context.principal, PaymentQuery(
            page: try query.page(), status: try query.enum("status", as: PaymentStatus.self), userId: try query.uuid("userId"),
            sortBy: try query.enum("sortBy", as: PaymentSort.self) ?? .createdAt, sortOrder: try query.enum("sortOrder", as: SortOrder.self) ?? .desc
        ))
        return PaymentListPayload(payments: page.items.map { PaymentPayload($0.payment, details: $0) }, pagination: PaginationPayload(page))
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<PaymentCreatedPayload> {
        let body = try await request.decode(as: CreateBody.self, context: context)
        let (payment, outcome) = try await self.payments.create(context.principal, NewPayment(
            appointmentId: body.appointment_id, amount: body.amount, currency: body.currency, method: body.payment_method
        ), idempotencyKey: request.headers[.idempotencyKey])
        return EditedResponse(status: .created, response: PaymentCreatedPayload(
            paymentId: payment.id.apiString, clientSecret: outcome.clientSecret ?? "", paymentIntentId: outcome.intentId ?? "",
            amount: payment.currency.majorUnits(payment.amountMinor), currency: payment.currency.code, status: payment.status
        ))
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> PaymentEnvelope {
        let details = try await self.payments.get(context.principal, id: try context.uuid("id"))
        return PaymentEnvelope(payment: PaymentPayload(details.payment, details: details, withDoctor: true))
    }

    @Sendable func confirm(_ request: Request, context: AuthenticatedContext) async throws -> PaymentConfirmedPayload {
        let id = try context.uuid("id")
        let body = try await request.decodeIfPresent(as: ConfirmBody.self, context: context)
        if let payload = body?.providerPayload, payload != .null, !payload.isObject {
            throw APIError.badRequest("'providerPayload' must be a JSON object, e.g. {\"payment_method\": \"pm_card_visa\"}.")
        }
        let (payment, providerStatus) = try await self.payments.confirm(context.principal, id: id, payload: body?.providerPayload, returnURL: body?.returnUrl)
        return PaymentConfirmedPayload(payment: PaymentPayload(payment), paymentIntentStatus: providerStatus)
    }

    @Sendable func cancel(_ request: Request, context: AuthenticatedContext) async throws -> PaymentEnvelope {
        PaymentEnvelope(payment: PaymentPayload(try await self.payments.cancel(context.principal, id: try context.uuid("id"))))
    }

    @Sendable func refund(_ request: Request, context: AuthenticatedContext) async throws -> PaymentRefundedPayload {
        let id = try context.uuid("id")
        let body = try await request.decodeIfPresent(as: RefundBody.self, context: context)
        let (payment, refund) = try await self.payments.refund(context.principal, id: id, amount: body?.amount, reason: body?.reason)
        return PaymentRefundedPayload(
            payment: PaymentPayload(payment),
            refund: .init(id: refund.id, amount: payment.currency.majorUnits(refund.amountMinor), status: refund.status)
        )
    }

    /// Verifies the signature over the exact bytes received, then applies the event once.
    @Sendable func receive(_ request: Request, context: AppRequestContext) async throws -> WebhookReceivedPayload {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        let bytes = Array(body.readableBytesView)
        guard let webhook = self.webhook else {
            throw APIError(.serviceUnavailable, "Webhooks not configured", "STRIPE_WEBHOOK_SECRET is not set on this server, so events cannot be verified.")
        }
        try webhook.verify(payload: bytes, header: request.headers[.init("Stripe-Signature")!], now: Date())
        let event = try StripeWebhook.parse(bytes)
        try await self.payments.handleWebhook(eventId: event.id, type: event.type, event: event.webhook)
        return WebhookReceivedPayload(received: true)
    }
}
