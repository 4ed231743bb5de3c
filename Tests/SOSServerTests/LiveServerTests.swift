import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOSSL
import Logging
import ServiceLifecycle
import Testing

@testable import SOSServer

@Suite("Live server: TLS and sign-in storms")
struct LiveServerTests {
    @Test("HTTPS and WSS on the same port when SOS_TLS_CERT/SOS_TLS_KEY are set (self-signed certificate made by the test)")
    func tls() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cert = directory.path + "/cert.pem"
        let key = directory.path + "/key.pem"
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"]
        openssl.standardError = FileHandle.nullDevice
        openssl.standardOutput = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl must be installed to make the test certificate")

        try await withApp(.ahc(.https), configure: { $0.tlsCertificatePath = cert; $0.tlsKeyPath = key }) { client, _ in
            let health = try await client.request(.get, "/health")
            #expect(health.status == .ok)
            let login = try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "admin@test.com", "password": "Admin123!"])
            #expect(login.status == .ok)
            // plain HTTP to the TLS port gets no HTTP answer
            let port = try #require(client.port)
            let plain = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = plain.shutdown() }
            let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/health")
            await #expect(throws: (any Error).self) { _ = try await plain.execute(request, timeout: .seconds(5)) }

            // WSS: the hub on the same port, trusting the test's certificate
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(cert)
            tls.certificateVerification = .noHostnameVerification
            let token = try #require(login.json["access_token"]?.string)
            let socket = try await HubClient.connect(port: port, token: token, host: "localhost", tls: tls)
            #expect(try await socket.call("ping")["type"]?.string == "pong")
            socket.close()
        }
    }

    @Test("A storm of sign-ins does not stall other requests (bcrypt runs off the event loops)")
    func loginStorm() async throws {
        // The hashing threads run at a low priority: on a machine saturated by the rest of the suite each hash may
        // take 20 times its CPU time, so the sign-ins go through a client of their own with a generous deadline.
        try await withApp(.ahc(.http), configure: { $0.bcryptCost = 10 }) { client, _ in
            let port = try #require(client.port)
            let signIns = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = signIns.shutdown() }
            var login = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/auth/email/login")
            login.method = .POST
            login.headers.add(name: "Content-Type", value: "application/json")
            login.body = .bytes(ByteBuffer(string: #"{"email":"admin@test.com","password":"Admin123!"}"#))
            let finished = ManagedCounter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask { [login] in
                        let response = try await signIns.execute(login, timeout: .seconds(120))
                        #expect(response.status == .ok)
                        finished.increment()
                    }
                }
                // step: give the logins a head start so they are all queued on the hashing pool
                try await Task.sleep(for: .milliseconds(50))
                let health = try await client.request(.get, "/health")
                #expect(health.status == .ok)
                #expect(finished.value < 4, "health answered only after every login finished: bcrypt blocks request handling")
                try await group.waitForAll()
            }
            #expect(finished.value == 4)
        }
    }
}

/// A counter shared between tasks.
final class ManagedCounter: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var count = 0

    func increment() {
        self.lock.lock()
        self.count += 1
        self.lock.unlock()
    }

    var value: Int {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.count
    }
}

@Suite("Graceful shutdown")
struct ShutdownTests {
    @Test("SIGTERM-style shutdown lets an in-flight request finish, then the server stops")
    func inFlightRequestFinishes() async throws {
        let storage = try await TestStorage.make()
        defer { Task { await storage.cleanUp() } }
        var logger = Logger(label: "shutdown-test")
        logger.logLevel = .critical
        let services = try await AppServices.build(storage.configuration, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let started = ManagedCounter()
        let app = try buildApplication(services, onServerRunning: { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
        }, extraRoutes: { router in
            router.get("test/slow") { _, _ -> String in
                started.increment()
                try await Task.sleep(for: .milliseconds(600))
                return "finished"
            }
        })
        let group = serviceGroup(app, services)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let pending = Task {
                try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/test/slow"), timeout: .seconds(10))
            }
            // step: shut down only once the request is being handled, however slow the machine
            for _ in 0..<1_000 where started.value == 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(started.value == 1)
            await group.triggerGracefulShutdown()
            let response = try await pending.value
            #expect(response.status == .ok)
            #expect(String(buffer: try await response.body.collect(upTo: 1024)) == "finished")
            try await tasks.waitForAll()
            await #expect(throws: (any Error).self, "the server no longer accepts connections") {
                _ = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(2))
            }
            try await client.shutdown()
        }
    }
}
