import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import SOSDomain
import SOSStorage
import Testing

@testable import SOSServer

@Suite("Lifecycle: restart, configuration, migrations")
struct LifecycleTests {
    @Test("After a restart on the same data: users, revocations and the generated JWT secret are kept")
    func restart() async throws {
        let storage = try await TestStorage.make()
        defer { Task { await storage.cleanUp() } }
        var configuration = storage.configuration
        configuration.jwtSecret = nil  // the development secret is generated into the data directory
        let first = try await runApp(configuration) { client, _ in
            let registered = try await client.request(.post, "/api/v1/auth/email/register", json: ["email": "keep@example.com", "password": "Persist123", "name": "Keeper"])
            #expect(registered.status == .created)
            let keep = try #require(registered.json["access_token"]?.string)
            let revoked = try await client.login("admin@test.com", "Admin123!")["access_token"]?.string ?? ""
            #expect(try await client.request(.post, "/api/v1/auth/logout", token: revoked).status == .ok)
            return (keep, revoked)
        }
        let secretPath = storage.directory.path + "/jwt_secret"
        let attributes = try FileManager.default.attributesOfItem(atPath: secretPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let secret = try String(contentsOfFile: secretPath, encoding: .utf8)
        try await runApp(configuration) { client, _ in
            let me = try await client.request(.get, "/api/v1/auth/me", token: first.0)
            #expect(me.status == .ok, "a token from before the restart still works: \(me.text)")
            #expect(me.json["user"]?["email"]?.string == "keep@example.com")
            expectError(try await client.request(.get, "/api/v1/auth/me", token: first.1), .unauthorized, detailsContain: "revoked")
            #expect(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "keep@example.com", "password": "Persist123"]).status == .ok)
        }
        #expect(try String(contentsOfFile: secretPath, encoding: .utf8) == secret)
    }

    @Test("Production refuses to start without a JWT_SECRET of 32 bytes or more")
    func productionSecret() async throws {
        var configuration = try ServerConfiguration.fromEnvironment(["SOS_ENV": "production"])
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration = try ServerConfiguration.fromEnvironment(["SOS_ENV": "production", "JWT_SECRET": "short"])
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration = try ServerConfiguration.fromEnvironment(["SOS_ENV": "production", "JWT_SECRET": String(repeating: "k", count: 32)])
        try configuration.validate()
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.fromEnvironment(["SOS_ENV": "staging"]) }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.fromEnvironment(["SOS_PORT": "eighty"]) }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.fromEnvironment(["SOS_TLS_CERT": "/tmp/cert.pem"]).validate() }
    }

    @Test("Production never seeds the default admin")
    func productionNoDefaultAdmin() async throws {
        try await withApp(configure: { useProductionMode(&$0) }) { client, services in
            expectError(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "admin@test.com", "password": "Admin123!"]), .unauthorized)
            #expect(try await services.users.count(role: .admin) == 0)
        }
    }

    @Test("A failed migration leaves the database as it was; the good ones are recorded")
    func failedMigration() async throws {
        let storage = try await TestStorage.make()
        defer { Task { await storage.cleanUp() } }
        let configuration = storage.configuration
        let services = try await AppServices.build(configuration, logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.database.run() }
            let logger = Logger(label: "test")
            try await Migrator(database: services.database, logger: logger).migrate()
            let broken = Migration.all + [Migration.testOnly(9001, "half", ["CREATE TABLE half_done (id INTEGER)", "THIS IS NOT SQL"])]
            await #expect(throws: (any Error).self) { try await Migrator(database: services.database, migrations: broken, logger: logger).migrate() }
            let versions = try await Migrator(database: services.database, logger: logger).appliedVersions()
            #expect(versions == Migration.all.map(\.version))
            await #expect(throws: (any Error).self, "the first statement of the failed migration was rolled back") {
                try await services.database.read { sql in
                    _ = try await sql.raw("SELECT COUNT(*) AS n FROM half_done").first()
                }
            }
            group.cancelAll()
        }
    }

    @Test("seed-demo creates doctors with profiles and availability, patients and appointments; running it again adds nothing")
    func seedDemo() async throws {
        try await withApp { client, services in
            let first = try await DemoSeeder(services: services).seed(scale: 1)
            #expect(first.contains("26 new account(s), 250 new appointment(s)"), "\(first)")
            let again = try await DemoSeeder(services: services).seed(scale: 1)
            #expect(again.contains("0 new account(s), 0 new appointment(s)"), "\(again)")
            let admin = try await client.adminToken()
            let doctors = try await client.request(.get, "/api/v1/doctors?limit=100", token: admin)
            #expect(doctors.json["pagination"]?["total"]?.int == 5)
            #expect(try await client.request(.get, "/api/v1/appointments/all", token: admin).json["pagination"]?["total"]?.int == 250)
            let doctor = try await client.login("doctor1@demo.sos", "Demo1234!")["access_token"]?.string ?? ""
            #expect(try await client.request(.get, "/api/v1/appointments", token: doctor).json["pagination"]?["total"]?.int == 50)
            #expect(try await client.request(.get, "/api/v1/availabilities?doctorId=\(doctors.json["doctors"]?[0]?["id"]?.string ?? "")", token: doctor).json["availabilities"]?.array?.count == 1)
        }
    }
}
