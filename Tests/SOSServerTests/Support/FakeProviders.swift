import Crypto
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

@testable import SOSServer

/// Local stand-ins, on one loopback port, for Twilio's Messages API, Postmark's email API and an OAuth 2.0
/// identity provider (authorize, token, OpenID userinfo, Graph `/me`). They record what they receive; `down`
/// makes the message APIs answer 503 like an outage.
final class FakeProviders: Sendable {
    struct Received: Sendable {
        let path: String
        let headers: [String: String]
        let form: [String: String]
        let json: JSONValue?
    }

    /// What the identity provider knows about one authorization code.
    struct Grant: Sendable {
        var profile: [String: String]
        var emailVerified: Bool?
        var challenge: String?
    }

    // @unchecked: only touched inside `state.withLockedValue`.
    private struct State: @unchecked Sendable {
        var received: [Received] = []
        var down = false
        var grants: [String: Grant] = [:]
        var tokens: [String: String] = [:]
    }

    private let state = NIOLockedValueBox(State())
    static let clientSecret = "fake-client-secret"

    var received: [Received] { self.state.withLockedValue { $0.received } }

    var down: Bool {
        get { self.state.withLockedValue { $0.down } }
        set { self.state.withLockedValue { $0.down = newValue } }
    }

    /// Messages sent through the Twilio fake (SMS and WhatsApp).
    var twilioMessages: [Received] { self.received.filter { $0.path.hasSuffix("/Messages.json") } }
    /// Emails sent through the Postmark fake.
    var emails: [Received] { self.received.filter { $0.path == "/email" } }

    /// Registers what the provider will say for `code` (`sub`/`id`/`user_id`, `email`, `name`…).
    func grant(code: String, profile: [String: String], emailVerified: Bool? = nil, challenge: String? = nil) {
        self.state.withLockedValue { $0.grants[code] = Grant(profile: profile, emailVerified: emailVerified, challenge: challenge) }
    }

    static func run<T: Sendable>(_ body: @Sendable (String, FakeProviders) async throws -> T) async throws -> T {
        let fake = FakeProviders()
        let router = Router()
        router.post("2010-04-01/Accounts/:sid/Messages.json") { request, _ in try await fake.message(request) }
        router.post("email") { request, _ in try await fake.message(request) }
        router.post("oauth/token") { request, _ in try await fake.token(request) }
        router.post("oauth/broken") { _, _ in Self.json(503, ["error": "temporarily_unavailable"]) }
        router.get("oauth/userinfo") { request, _ in fake.profile(request) }
        router.get("graph/me") { request, _ in fake.profile(request) }
        return try await withLoopbackServer(router) { base in try await body(base, fake) }
    }

    private func record(_ request: inout Request) async throws -> Received {
        let text = String(buffer: try await request.collectBody(upTo: 1 << 20))
        var form: [String: String] = [:]
        if request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
            for pair in text.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
                form[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }  // lower-cased names
        let received = Received(path: request.uri.path, headers: headers, form: form, json: JSONValue.parse(Data(text.utf8)))
        self.state.withLockedValue { $0.received.append(received) }
        return received
    }

    private func message(_ request: Request) async throws -> Response {
        var request = request
        let received = try await self.record(&request)
        if self.down { return Self.json(503, ["message": "Service unavailable"]) }
        if received.path == "/email" {
            return Self.json(200, ["ErrorCode": 0, "Message": "OK", "MessageID": UUID().uuidString, "To": received.json?["To"]?.string ?? ""])
        }
        if received.form["To"]?.contains("+15005550001") == true {
            return Self.json(400, ["code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400])
        }
        return Self.json(201, ["sid": "SM" + UUID().uuidString.replacingOccurrences(of: "-", with: ""), "status": "queued", "to": received.form["To"] ?? ""])
    }

    private func token(_ request: Request) async throws -> Response {
        var request = request
        let received = try await self.record(&request)
        let code = received.form["code"] ?? ""
        guard received.form["grant_type"] == "authorization_code", received.form["client_secret"] == Self.clientSecret,
              let grant = self.state.withLockedValue({ $0.grants.removeValue(forKey: code) })
        else {
            return Self.json(400, ["error": "invalid_grant", "error_description": "Bad code or client"])
        }
        if let challenge = grant.challenge {
            // step: PKCE S256: the verifier sent now must hash to the challenge sent with the authorization request
            let verifier = received.form["code_verifier"] ?? ""
            let hashed = Base64URL.encode(SHA256.hash(data: Data(verifier.utf8)))
            guard hashed == challenge else { return Self.json(400, ["error": "invalid_grant", "error_description": "PKCE verification failed"]) }
        }
        let token = "at-" + UUID().uuidString
        self.state.withLockedValue { $0.tokens[token] = code }
        self.state.withLockedValue { $0.grants["used:" + token] = grant }
        return Self.json(200, ["access_token": token, "token_type": "Bearer", "expires_in": 3600])
    }

    private func profile(_ request: Request) -> Response {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let query = QueryParameters(request)
        let form = ["fields": query.values["fields"] ?? "", "access_token": query.values["access_token"] ?? ""]
        self.state.withLockedValue { $0.received.append(Received(path: request.uri.path, headers: headers, form: form, json: nil)) }
        let bearer = request.headers[.authorization].map { String($0.dropFirst("Bearer ".count)) }
        let token = bearer ?? query.values["access_token"] ?? ""
        guard let grant = self.state.withLockedValue({ $0.grants["used:" + token] }) else {
            return Self.json(401, ["error": "invalid_token"])
        }
        var body: [String: Any] = grant.profile
        if let verified = grant.emailVerified { body["email_verified"] = verified }
        if let picture = grant.profile["picture"], request.uri.path == "/graph/me" { body["picture"] = ["data": ["url": picture]] }
        return Self.json(200, body)
    }

    private static func json(_ status: Int, _ object: [String: Any]) -> Response {
        let data = try! JSONSerialization.data(withJSONObject: object)
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The 6-digit code in a message body.
func code(in text: String?) -> String? {
    guard let text, let range = text.range(of: #"\b\d{6}\b"#, options: .regularExpression) else { return nil }
    return String(text[range])
}

/// Query items of a URL.
func queryItems(_ url: String?) -> [String: String] {
    var items: [String: String] = [:]
    for item in URLComponents(string: url ?? "")?.queryItems ?? [] { items[item.name] = item.value ?? "" }
    return items
}
