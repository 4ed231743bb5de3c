import Foundation
import Hummingbird
import SOSDomain

/// `/api/v1/admin/dashboard`: statistics, recent activity and payment analytics (admins and secretaries).
struct DashboardController {
    let dashboard: DashboardService
    let reportingCurrency: Currency

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("stats", use: self.stats)
        group.get("recent-activity", use: self.recent)
        group.get("analytics", use: self.analytics)
    }

    @Sendable func stats(_ request: Request, context: AuthenticatedContext) async throws -> StatsPayload {
        StatsPayload(try await self.dashboard.stats(context.principal), reportingCurrency: self.reportingCurrency)
    }

    @Sendable func recent(_ request: Request, context: AuthenticatedContext) async throws -> RecentActivityPayload {
        let limit = try QueryParameters(request).page(maximum: 50).limit
        return RecentActivityPayload(try await self.dashboard.recent(context.principal, limit: limit))
    }

    @Sendable func analytics(_ request: Request, context: AuthenticatedContext) async throws -> AnalyticsPayload {
        let query = QueryParameters(request)
        return AnalyticsPayload(try await self.dashboard.analytics(
            context.principal, period: try query.enum("period", as: AnalyticsPeriod.self) ?? .month,
            start: try query.date("startDate"), end: try query.date("endDate")
        ))
    }
}
