import Foundation
import Hummingbird
import SOSDomain

/// Development-only endpoints (`SOS_ENV=development`); not mounted at all in production, so they are 404 there.
struct DevController {
    let notifications: any NotificationRepository
    /// Runs `seed-demo` at scale 1 and says what it made.
    let seedDemo: @Sendable () async throws -> String

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("outbox", use: self.outbox)
        group.post("seed-demo", use: self.loadDemoData)
    }

    /// The admin's one-click "load demo data" (the same accounts as `sos-server seed-demo`; idempotent).
    @Sendable func loadDemoData(_ request: Request, context: AuthenticatedContext) async throws -> MessagePayload {
        try AccessPolicy.require(.loadDemoData, context.principal)
        return MessagePayload(message: try await self.seedDemo())
    }

    /// Emails, SMS and WhatsApp messages the server would have sent (OTP codes included); admins only.
    @Sendable func outbox(_ request: Request, context: AuthenticatedContext) async throws -> OutboxPayload {
        try AccessPolicy.require(.readDevOutbox, context.principal)
        let limit = try QueryParameters(request).page(maximum: 500, defaultLimit: 100).limit
        return OutboxPayload(try await self.notifications.outbox(limit: limit))
    }
}
