import Foundation

/// How long an unpaid booking keeps its slot, and how many a patient may keep open.
///
/// A booking waiting for an online (Stripe) payment holds its slot for `onlineHold` after it was made. A booking to
/// be paid at the clinic (no Stripe, or a manual payment chosen) is not released for being unpaid: it holds its slot
/// until `clinicConfirmBefore` its start, by which time staff must confirm it (or it must be paid) — and at least
/// `onlineHold` after it was made, so a booking for soon still gives the clinic time to confirm. A released booking
/// becomes `cancelled` with `releaseReason`.
public struct BookingRules: Sendable, Equatable {
    /// `SOS_BOOKING_HOLD_MINUTES`.
    public var onlineHold: TimeInterval = 20 * 60
    /// `SOS_CLINIC_CONFIRM_HOURS`.
    public var clinicConfirmBefore: TimeInterval = 2 * 3600
    /// `SOS_MAX_UNPAID_BOOKINGS`: open unpaid bookings a patient may hold (made or accepted by himself).
    public var maxUnpaidPerPatient = 3
    /// True when card payments go online (Stripe is configured): a new booking then waits for an online payment.
    public var onlinePayments = false

    public init() {}

    /// How an unpaid booking is expected to be paid, which decides its hold.
    public enum Route: Sendable, Equatable {
        case online
        case clinic
    }

    /// The route of a new booking: online when Stripe is configured, else at the clinic.
    public var newBookingRoute: Route { self.onlinePayments ? .online : .clinic }

    /// When a booking made at `bookedAt` for `startsAt` gives its slot back if still unpaid and unconfirmed.
    public func holdEnd(bookedAt: Date, startsAt: Date, route: Route) -> Date {
        let minimum = bookedAt.addingTimeInterval(self.onlineHold)
        let end =
            switch route {
            case .online: minimum
            case .clinic: max(startsAt.addingTimeInterval(-self.clinicConfirmBefore), minimum)
            }
        return min(end, startsAt)
    }

    /// The cancellation reason both sides see when a hold ends.
    public func releaseReason(route: Route, holdEnd: Date) -> String {
        switch route {
        case .online:
            "Not paid within \(Int(self.onlineHold / 60)) minutes of booking; the slot was released."
        case .clinic:
            "Not confirmed by the clinic or paid by \(Self.minutes(holdEnd)) UTC; the slot was released."
        }
    }

    /// "2026-12-03 08:00".
    static func minutes(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime]
        return String(formatter.string(from: date).prefix(16))
    }
}
