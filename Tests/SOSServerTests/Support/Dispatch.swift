import Foundation
import HummingbirdTesting
import SOSDomain
import Testing

@testable import SOSServer

/// Who router tests say is connected to the hub (they have no sockets).
final class FakePresence: PresenceDirectory, @unchecked Sendable {
    // @unchecked: `online` is only touched under `lock`.
    private let lock = NSLock()
    private var online: Set<UUID> = []

    func set(_ ids: [String], online: Bool = true) {
        let uuids = ids.compactMap(UUID.init(uuidString:))
        self.lock.withLock { if online { self.online.formUnion(uuids) } else { self.online.subtract(uuids) } }
    }

    func connected(among users: [UUID]) async -> Set<UUID> {
        self.lock.withLock { self.online.intersection(users) }
    }
}

/// An application for SOS tests: its own database, the test's clock and presence (nil: the hub's), and a dispatch
/// job that never runs by itself (tests call `advanceDue` after moving the clock).
func withDispatchApp<T: Sendable>(
    _ setup: TestingSetup = .router, presence: FakePresence? = FakePresence(), clock: TestClock = TestClock(),
    configure: @Sendable (inout ServerConfiguration) -> Void = { _ in },
    _ test: @Sendable (any TestClientProtocol, AppServices) async throws -> T
) async throws -> T {
    let storage = try await TestStorage.make()
    defer { Task { await storage.cleanUp() } }
    var configuration = dispatchConfiguration(storage, clock: clock)
    configure(&configuration)
    return try await runApp(configuration, setup, presence: presence, test)
}

/// A test configuration on `storage` with the test's clock (the dispatch job never runs by itself in tests).
func dispatchConfiguration(_ storage: TestStorage, clock: TestClock = TestClock()) -> ServerConfiguration {
    var configuration = storage.configuration
    configuration.clock = clock.now
    configuration.hub.offlineGrace = 0.3
    return configuration
}

/// Paris, where the tests' patients are.
enum Paris {
    static let latitude = 48.8566
    static let longitude = 2.3522

    /// A point `km` north of the centre.
    static func north(_ km: Double) -> (Double, Double) { (Self.latitude + km / 111.32, Self.longitude) }
}

/// A doctor made through the API: profile (languages, fees), and on call at a base unless `onCall` is false.
struct OnCallDoctor {
    let id: String
    let token: String
    let name: String

    static func make(
        _ client: some TestClientProtocol, name: String = "Dr \(UUID().uuidString.prefix(6))", at base: (Double, Double), radiusKm: Double = 10,
        kinds: [String] = ["home"], languages: [String] = ["en", "fr"], onCall: Bool = true
    ) async throws -> OnCallDoctor {
        let account = try await client.makeUser(role: "doctor", name: name)
        let profile = try await client.request(.post, "/api/v1/doctors", token: account.token, json: [
            "specialisation": "General practice", "is_listed": true, "supported_languages": languages, "time_zone": "Europe/Paris",
            "fees": Clinic.fees, "currency": "EUR",
        ])
        #expect(profile.status == .created, "\(profile.text)")
        let onCallAnswer = try await client.request(.put, "/api/v1/doctors/me/on-call", token: account.token, json: [
            "on_call": onCall, "latitude": base.0, "longitude": base.1, "radius_km": radiusKm, "kinds": kinds,
        ])
        #expect(onCallAnswer.status == .ok, "\(onCallAnswer.text)")
        return OnCallDoctor(id: account.id, token: account.token, name: name)
    }

    /// The request ids this doctor holds an open offer for.
    func offers(_ client: some TestClientProtocol) async throws -> [JSONValue] {
        let response = try await client.request(.get, "/api/v1/sos/offers", token: self.token)
        #expect(response.status == .ok, "\(response.text)")
        return response.json["offers"]?.array ?? []
    }

    func isOffered(_ client: some TestClientProtocol, _ requestId: String) async throws -> Bool {
        try await self.offers(client).contains { $0["request_id"]?.string == requestId }
    }
}

/// A patient's SOS request body in Paris (overridable).
func sosBody(at location: (Double, Double) = (Paris.latitude, Paris.longitude), severity: String = "moderate", symptoms: [String] = ["fever", "vomiting"],
             kinds: [String] = ["home"], language: String = "en", country: String = "FR", place: String = "Hotel Lutetia, room 512") -> JSONObject {
    ["symptoms": symptoms, "severity": severity, "latitude": location.0, "longitude": location.1, "place": place, "country": country,
     "language": language, "kinds": kinds]
}
