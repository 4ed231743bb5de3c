import Foundation
import HTTPTypes
import HummingbirdTesting
import SOSDomain
import Testing

@testable import SOSServer

@Suite("Role matrix: every role against every auth and user endpoint")
struct RoleMatrixTests {
    static let roles = ["superadmin", "admin", "secretary", "doctor", "patient", "guest"]

    /// One endpoint and the status each role gets (missing roles: the default).
    struct Case {
        let method: HTTPRequest.Method
        let path: (String) -> String
        let body: JSONObject?
        let allowed: [String: HTTPResponse.Status]
        let otherwise: HTTPResponse.Status
        let label: String
    }

    @Test("Each role gets exactly its allowed answers; no token gets 401")
    func matrix() async throws {
        try await withApp { client, services in
            var tokens: [String: String] = [:]
            _ = try await services.userService.ensureAdmin(email: "root@test.com", password: "Superadmin1", name: "Root", role: .superadmin)
            tokens["superadmin"] = try await client.login("root@test.com", "Superadmin1")["access_token"]?.string
            tokens["admin"] = try await client.adminToken()
            for role in ["secretary", "doctor", "patient", "guest"] {
                tokens[role] = try await client.makeUser(role: role).token
            }
            let target = try await client.makeUser(role: "patient", email: "target@example.com")
            let staffRead: [String: HTTPResponse.Status] = ["superadmin": .ok, "admin": .ok, "secretary": .ok]
            let adminOnly: [String: HTTPResponse.Status] = ["superadmin": .ok, "admin": .ok]
            let everyone = Dictionary(uniqueKeysWithValues: Self.roles.map { ($0, HTTPResponse.Status.ok) })
            let cases: [Case] = [
                Case(method: .get, path: { _ in "/api/v1/auth/me" }, body: nil, allowed: everyone, otherwise: .forbidden, label: "GET /auth/me"),
                Case(method: .get, path: { _ in "/api/v1/users/me" }, body: nil, allowed: everyone, otherwise: .forbidden, label: "GET /users/me"),
                Case(method: .put, path: { _ in "/api/v1/users/me" }, body: ["name": "Renamed"], allowed: everyone, otherwise: .forbidden, label: "PUT /users/me"),
                Case(method: .get, path: { _ in "/api/v1/users" }, body: nil, allowed: staffRead, otherwise: .forbidden, label: "GET /users"),
                Case(method: .post, path: { role in "/api/v1/users" }, body: nil, allowed: ["superadmin": .created, "admin": .created], otherwise: .forbidden, label: "POST /users"),
                Case(method: .get, path: { _ in "/api/v1/users/\(target.id)" }, body: nil, allowed: staffRead, otherwise: .notFound, label: "GET /users/:id (someone else)"),
                Case(method: .put, path: { _ in "/api/v1/users/\(target.id)" }, body: ["name": "Changed"], allowed: adminOnly, otherwise: .forbidden, label: "PUT /users/:id"),
            ]
            for testCase in cases {
                for role in Self.roles {
                    let token = tokens[role, default: ""]
                    var body = testCase.body
                    if testCase.label == "POST /users" {
                        body = ["email": "new-\(role)-\(UUID().uuidString.prefix(6))@example.com", "password": "Password1!", "name": "New", "role": "patient"]
                    }
                    let response = try await client.request(testCase.method, testCase.path(role), token: token, json: body)
                    let expected = testCase.allowed[role] ?? testCase.otherwise
                    #expect(response.status == expected, "\(testCase.label) as \(role): \(response.status.code) \(response.text)")
                    if expected.code >= 400 { expectError(response, expected) }
                }
                let anonymous = try await client.request(testCase.method, testCase.path("none"), json: testCase.body ?? [:])
                expectError(anonymous, .unauthorized)
            }
            // DELETE needs a fresh victim per allowed role
            for role in Self.roles {
                let victim = try await client.makeUser(role: "patient")
                let response = try await client.request(.delete, "/api/v1/users/\(victim.id)", token: tokens[role, default: ""])
                let expected: HTTPResponse.Status = adminOnly[role] ?? .forbidden
                #expect(response.status == expected, "DELETE /users/:id as \(role): \(response.text)")
            }
            expectError(try await client.request(.delete, "/api/v1/users/\(target.id)"), .unauthorized)
            // an admin cannot touch a superadmin
            let rootId = try #require(try await services.users.find(email: "root@test.com")?.id.apiString)
            expectError(try await client.request(.put, "/api/v1/users/\(rootId)", token: tokens["admin", default: ""], json: ["name": "x"]), .forbidden)
            expectError(try await client.request(.delete, "/api/v1/users/\(rootId)", token: tokens["admin", default: ""]), .forbidden)
            // logout works for every role
            for role in Self.roles {
                #expect(try await client.request(.post, "/api/v1/auth/logout", token: tokens[role, default: ""]).status == .ok, "logout as \(role)")
            }
            expectError(try await client.request(.post, "/api/v1/auth/logout"), .unauthorized)
        }
    }
}
