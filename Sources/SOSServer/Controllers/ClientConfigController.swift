import Foundation
import Hummingbird
import SOSDomain

/// `GET /api/v1/config`: what a client needs to know about this server before signing in — which sign-in
/// methods and payment providers are set up, Stripe's publishable key, and whether it runs in development.
/// Public, and it holds nothing secret.
struct ClientConfigController {
    let payload: ClientConfigPayload

    init(_ configuration: ServerConfiguration, channels: [OutboxMessage.Channel]) {
        self.payload = ClientConfigPayload(
            mode: configuration.mode.rawValue,
            sign_in: .init(
                password: true, otp_channels: channels.map(\.rawValue).sorted(),
                oauth_providers: SocialProvider.allCases.filter { configuration.oauth[$0] != nil }.map(\.rawValue)
            ),
            payments: .init(
                providers: configuration.stripeSecretKey == nil ? ["manual"] : ["manual", "stripe"],
                stripe_publishable_key: Nullable(configuration.stripeSecretKey == nil ? nil : configuration.stripePublishableKey)
            ),
            booking: .init(
                unpaid_hold_minutes: Int(configuration.booking.onlineHold / 60), clinic_confirm_hours: Int(configuration.booking.clinicConfirmBefore / 3600),
                max_unpaid_bookings: configuration.booking.maxUnpaidPerPatient
            ),
            realtime: .init(path: "/api/v1/ws")
        )
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("config") { _, _ in self.payload }
    }
}

/// The body of `GET /api/v1/config`.
struct ClientConfigPayload: ResponseEncodable, Sendable {
    struct SignIn: Encodable, Sendable {
        let password: Bool
        /// Channels a one-time code can be sent on: `email`, `sms`, `whatsapp`.
        let otp_channels: [String]
        let oauth_providers: [String]
    }

    struct Payments: Encodable, Sendable {
        let providers: [String]
        /// Set only when Stripe is configured and a publishable key was given: then the client loads Stripe.js.
        let stripe_publishable_key: Nullable<String>
    }

    struct Realtime: Encodable, Sendable {
        let path: String
    }

    /// How long unpaid bookings hold their slot, and how many a patient may hold (`BookingRules`).
    struct Booking: Encodable, Sendable {
        let unpaid_hold_minutes: Int
        let clinic_confirm_hours: Int
        let max_unpaid_bookings: Int
    }

    let mode: String
    let sign_in: SignIn
    let payments: Payments
    let booking: Booking
    let realtime: Realtime
}
