import Foundation
import HTTPTypes
import HummingbirdTesting
import SOSDomain
import SOSStorage
import SQLKit
import Testing

@testable import SOSServer

/// The SOS matching benchmark (issue 15), opt-in with `SOS_BENCH=1`: it prints numbers and asserts only correctness.
/// In one run, POST /sos (store, candidate query, ranking, first wave of offers, live status) with 100 and with
/// 10,000 on-call doctors spread over France, the patient in Paris. Presence is faked (every doctor connected), so the
/// hub's presence lookups are not measured here.
@Suite("SOS dispatch benchmark", .enabled(if: ProcessInfo.processInfo.environment["SOS_BENCH"] == "1", "set SOS_BENCH=1"))
struct SOSDispatchBenchmark {
    /// Inserts `count` active, on-call, English-speaking doctors at random points of France, in one statement each.
    static func seedDoctors(_ services: AppServices, count: Int, offset: Int) async throws -> [String] {
        var generator = SystemRandomNumberGenerator()
        let rows = (0..<count).map { index -> (UUID, Double, Double) in
            (UUID(), Double.random(in: 43...50, using: &generator), Double.random(in: -4.5...7.5, using: &generator))
        }
        let now = Date()
        for chunk in stride(from: 0, to: rows.count, by: 500) {
            let part = rows[chunk..<min(chunk + 500, rows.count)]
            try await services.database.transaction { sql in
                for (index, (id, latitude, longitude)) in part.enumerated() {
                    try await sql.raw("""
                        INSERT INTO users (id, email, name, role, status, is_email_verified, is_phone_verified, created_at, updated_at)
                        VALUES (\(bind: id), \(bind: "bench-\(offset + chunk + index)@example.com"), \(bind: "Dr Bench \(offset + chunk + index)"),
                            'doctor', 'active', \(bind: true), \(bind: true), \(bind: now), \(bind: now))
                        """).run()
                    try await sql.raw("INSERT INTO doctor_languages (doctor_id, language) VALUES (\(bind: id), 'en')").run()
                    try await sql.raw("""
                        INSERT INTO doctor_on_call (doctor_id, on_call, latitude, longitude, radius_km, offers_home, offers_video, updated_at)
                        VALUES (\(bind: id), \(bind: true), \(bind: latitude), \(bind: longitude), 30, \(bind: true), \(bind: true), \(bind: now))
                        """).run()
                }
            }
        }
        // step: fresh statistics, as autovacuum (PostgreSQL) would have them a minute after such a load; SQLite's planner needs none
        if services.database.kind == .postgres {
            try await services.database.write { sql in try await sql.raw("ANALYZE").run() }
        }
        return rows.map { $0.0.uuidString.lowercased() }
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    /// `rounds` requests from one patient (each cancelled before the next): their latencies in milliseconds.
    static func measure(_ client: some TestClientProtocol, patient: String, rounds: Int) async throws -> [Double] {
        var latencies: [Double] = []
        for _ in 0..<rounds {
            let started = ContinuousClock.now
            let created = try await client.request(.post, "/api/v1/sos", token: patient, json: sosBody(kinds: ["home", "video"]))
            let elapsed = ContinuousClock.now - started
            #expect(created.status == .created, "\(created.text)")
            latencies.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
            let id = created.json["request"]?["id"]?.string ?? ""
            _ = try await client.request(.post, "/api/v1/sos/\(id)/cancel", token: patient)
        }
        return latencies
    }

    @Test("POST /sos latency with 100 and with 10,000 on-call doctors")
    func matching() async throws {
        let presence = FakePresence()
        try await withDispatchApp(presence: presence) { client, services in
            let patient = try await client.makeUser(role: "patient")
            presence.set(try await Self.seedDoctors(services, count: 100, offset: 0))
            _ = try await Self.measure(client, patient: patient.token, rounds: 20)
            let small = try await Self.measure(client, patient: patient.token, rounds: 200)
            presence.set(try await Self.seedDoctors(services, count: 9_900, offset: 100))
            _ = try await Self.measure(client, patient: patient.token, rounds: 20)
            let large = try await Self.measure(client, patient: patient.token, rounds: 200)
            let kind = services.database.kind.rawValue
            print("BENCH sos.match \(kind) doctors=100 p50=\(String(format: "%.2f", Self.percentile(small, 0.5)))ms p99=\(String(format: "%.2f", Self.percentile(small, 0.99)))ms")
            print("BENCH sos.match \(kind) doctors=10000 p50=\(String(format: "%.2f", Self.percentile(large, 0.5)))ms p99=\(String(format: "%.2f", Self.percentile(large, 0.99)))ms")
            print("BENCH sos.match \(kind) p99 ratio 10000/100 = \(String(format: "%.2f", Self.percentile(large, 0.99) / Self.percentile(small, 0.99)))")
        }
    }
}
