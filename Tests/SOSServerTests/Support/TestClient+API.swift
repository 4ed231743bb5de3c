import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// A JSON object to send.
typealias JSONObject = [String: Any]

extension TestResponse {
    /// The body as JSON (`.null` with a recorded issue when it is not JSON).
    var json: JSONValue {
        guard let value = JSONValue.parse(Data(buffer: self.body)) else {
            Issue.record("Body is not JSON: \(String(buffer: self.body))")
            return .null
        }
        return value
    }

    var text: String { String(buffer: self.body) }
}

extension TestClientProtocol {
    /// Sends a request with an optional JSON body and bearer token.
    @discardableResult
    func request(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: Any? = nil, rawBody: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        var body: ByteBuffer?
        if let json {
            let data = try JSONSerialization.data(withJSONObject: json)
            body = ByteBuffer(bytes: data)
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        } else if let rawBody {
            body = ByteBuffer(string: rawBody)
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        }
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await self.executeRequest(uri: uri, method: method, headers: headers, body: body)
    }

    /// Signs in and returns the whole answer.
    func login(_ email: String, _ password: String) async throws -> JSONValue {
        let response = try await self.request(.post, "/api/v1/auth/email/login", json: ["email": email, "password": password])
        #expect(response.status == .ok, "login \(email): \(response.text)")
        return response.json
    }

    /// The seeded development admin's access token.
    func adminToken() async throws -> String {
        try await self.login("admin@test.com", "Admin123!")["access_token"]?.string ?? ""
    }

    /// Creates a user through `POST /users` as the admin and returns `(id, accessToken)`.
    func makeUser(role: String, email: String? = nil, password: String = "Password1!", name: String = "Test User", extra: JSONObject = [:]) async throws -> (id: String, token: String) {
        let admin = try await self.adminToken()
        let address = email ?? "\(role)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        var body: JSONObject = ["email": address, "password": password, "name": name, "role": role]
        body.merge(extra) { $1 }
        let created = try await self.request(.post, "/api/v1/users", token: admin, json: body)
        #expect(created.status == .created, "create \(role): \(created.text)")
        let id = created.json["user"]?["id"]?.string ?? ""
        let token = try await self.login(address, password)["access_token"]?.string ?? ""
        return (id, token)
    }
}

/// Checks the seed's error shape: exactly `error`, `details`, `status` with `status` equal to the HTTP code.
func expectError(_ response: TestResponse, _ status: HTTPResponse.Status, detailsContain fragment: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(response.status == status, "expected \(status.code), got \(response.status.code): \(response.text)", sourceLocation: sourceLocation)
    let body = response.json
    #expect(body.keys == ["error", "details", "status"], "error shape: \(response.text)", sourceLocation: sourceLocation)
    #expect(body["status"]?.int == Int(status.code), sourceLocation: sourceLocation)
    #expect(body["error"]?.string?.isEmpty == false, sourceLocation: sourceLocation)
    #expect(body["details"]?.string?.isEmpty == false, sourceLocation: sourceLocation)
    #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
    if let fragment {
        #expect(body["details"]?.string?.contains(fragment) == true, "details should mention '\(fragment)': \(response.text)", sourceLocation: sourceLocation)
    }
}

/// Checks the seed's user object: every field, its JSON type, and nothing else.
func expectUserShape(_ user: JSONValue?, timestamps: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let user, user.object != nil else {
        Issue.record("user is not an object: \(String(describing: user))", sourceLocation: sourceLocation)
        return
    }
    var expected: Set<String> = ["id", "email", "name", "role", "profile_picture", "is_email_verified", "is_status", "phone", "associated_doctors"]
    if timestamps { expected.formUnion(["created_at", "updated_at"]) }
    #expect(user.keys == expected, "user keys: \(user.keys.sorted())", sourceLocation: sourceLocation)
    #expect(UUID(uuidString: user["id"]?.string ?? "") != nil, sourceLocation: sourceLocation)
    for key in ["email", "name", "profile_picture", "phone"] {
        #expect(user[key]?.string != nil, "\(key) must be a string: \(user)", sourceLocation: sourceLocation)
    }
    #expect(["admin", "doctor", "patient", "secretary", "superadmin", "guest"].contains(user["role"]?.string ?? ""), sourceLocation: sourceLocation)
    #expect(["active", "pending", "blocked"].contains(user["is_status"]?.string ?? ""), sourceLocation: sourceLocation)
    #expect(user["is_email_verified"]?.bool != nil, "is_email_verified must be a boolean", sourceLocation: sourceLocation)
    #expect(user["associated_doctors"]?.array?.allSatisfy { UUID(uuidString: $0.string ?? "") != nil } == true, sourceLocation: sourceLocation)
    if timestamps {
        for key in ["created_at", "updated_at"] {
            #expect(isTimestamp(user[key]?.string), "\(key) must be ISO 8601 UTC: \(String(describing: user[key]))", sourceLocation: sourceLocation)
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
func isTimestamp(_ text: String?) -> Bool {
    guard let text else { return false }
    return text.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil
}
