import Foundation
import HTTPTypes
import HummingbirdTesting
import Crypto
import Testing

@testable import SOSServer

@Suite("Auth: login, register, refresh, logout, tokens")
struct AuthTests {
    @Test("The seeded admin logs in and reads /auth/me with the seed's shapes")
    func adminLogin() async throws {
        try await withApp { client, _ in
            let login = try await client.login("admin@test.com", "Admin123!")
            #expect(login.keys == ["message", "access_token", "refresh_token", "user"])
            #expect(login["message"]?.string?.isEmpty == false)
            expectUserShape(login["user"], timestamps: false)
            #expect(login["user"]?["role"]?.string == "admin")
            let token = try #require(login["access_token"]?.string)
            let me = try await client.request(.get, "/api/v1/auth/me", token: token)
            #expect(me.status == .ok)
            #expect(me.json.keys == ["user"])
            expectUserShape(me.json["user"], timestamps: true)
            #expect(me.json["user"]?["email"]?.string == "admin@test.com")
            let usersMe = try await client.request(.get, "/api/v1/users/me", token: token)
            #expect(usersMe.json == me.json)
        }
    }

    @Test("Tokens carry sub, role, email, iat, exp, jti and are HS256")
    func tokenClaims() async throws {
        try await withApp { client, _ in
            let token = try await client.adminToken()
            let parts = token.split(separator: ".")
            #expect(parts.count == 3)
            let header = try #require(JSONValue.parse(Base64URL.decode(parts[0]) ?? Data()))
            #expect(header["alg"]?.string == "HS256")
            let claims = try #require(JSONValue.parse(Base64URL.decode(parts[1]) ?? Data()))
            #expect(claims.keys == ["sub", "role", "email", "iat", "exp", "jti"])
            #expect(claims["role"]?.string == "admin")
            #expect(claims["email"]?.string == "admin@test.com")
            let iat = try #require(claims["iat"]?.int)
            let exp = try #require(claims["exp"]?.int)
            #expect(exp - iat == 15 * 60)
        }
    }

    @Test("Wrong password and unknown email get the same 401; nothing reveals which")
    func badCredentials() async throws {
        try await withApp { client, _ in
            let wrong = try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "admin@test.com", "password": "Wrong123!"])
            expectError(wrong, .unauthorized)
            let unknown = try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "nobody@test.com", "password": "Wrong123!"])
            expectError(unknown, .unauthorized)
            #expect(wrong.json["details"] == unknown.json["details"])
        }
    }

    @Test("Validation comes first: a short password is 400 whatever the account")
    func shortPassword() async throws {
        try await withApp { client, _ in
            for email in ["admin@test.com", "nobody@test.com"] {
                let response = try await client.request(.post, "/api/v1/auth/email/login", json: ["email": email, "password": "short"])
                expectError(response, .badRequest, detailsContain: "at least 8")
            }
        }
    }

    @Test("Login rejects bad input classes with 400 and a field-specific message")
    func loginBadInput() async throws {
        try await withApp { client, _ in
            expectError(try await client.request(.post, "/api/v1/auth/email/login", rawBody: "{not json"), .badRequest, detailsContain: "not valid JSON")
            expectError(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": 42, "password": "Admin123!"]), .badRequest, detailsContain: "'email' must be a string")
            expectError(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "admin@test.com"]), .badRequest, detailsContain: "'password' is required")
            expectError(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": NSNull(), "password": "Admin123!"]), .badRequest, detailsContain: "must not be null")
            expectError(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "not-an-email", "password": "Admin123!"]), .badRequest, detailsContain: "email address")
            expectError(try await client.request(.post, "/api/v1/auth/email/login", rawBody: "[1,2]"), .badRequest, detailsContain: "JSON object")
            expectError(try await client.request(.post, "/api/v1/auth/email/login"), .badRequest, detailsContain: "empty")
            expectError(
                try await client.request(.post, "/api/v1/auth/email/login", rawBody: "email=a", headers: [.contentType: "application/x-www-form-urlencoded"]),
                .unsupportedMediaType
            )
        }
    }

    @Test("Register creates a patient, returns 201 with tokens, and refuses duplicates and other roles")
    func register() async throws {
        try await withApp { client, _ in
            let body: JSONObject = ["email": "Tourist@Example.com", "password": "Holiday123", "name": "Ana Tourist", "phone": "+34600111222"]
            let created = try await client.request(.post, "/api/v1/auth/email/register", json: body)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.json.keys == ["message", "access_token", "refresh_token", "user"])
            expectUserShape(created.json["user"], timestamps: false)
            #expect(created.json["user"]?["role"]?.string == "patient")
            #expect(created.json["user"]?["email"]?.string == "tourist@example.com")
            #expect(created.json["user"]?["phone"]?.string == "+34600111222")
            let token = try #require(created.json["access_token"]?.string)
            #expect(try await client.request(.get, "/api/v1/auth/me", token: token).status == .ok)

            expectError(try await client.request(.post, "/api/v1/auth/email/register", json: body), .conflict, detailsContain: "already exists")
            var admin = body
            admin["email"] = "sneaky@example.com"
            admin["role"] = "admin"
            expectError(try await client.request(.post, "/api/v1/auth/email/register", json: admin), .forbidden)
            admin["role"] = "root"
            expectError(try await client.request(.post, "/api/v1/auth/email/register", json: admin), .badRequest, detailsContain: "expected one of")
            #expect(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "sneaky@example.com", "password": "Holiday123"]).status == .unauthorized)
            var badPhone = body
            badPhone["email"] = "phone@example.com"
            badPhone["phone"] = "0600"
            expectError(try await client.request(.post, "/api/v1/auth/email/register", json: badPhone), .badRequest, detailsContain: "E.164")
        }
    }

    @Test("Refresh rotates tokens; reusing a spent refresh token revokes the whole family")
    func refreshRotation() async throws {
        try await withApp { client, _ in
            let login = try await client.login("admin@test.com", "Admin123!")
            let first = try #require(login["refresh_token"]?.string)
            let rotated = try await client.request(.post, "/api/v1/auth/refresh", json: ["refresh_token": first])
            #expect(rotated.status == .ok, "\(rotated.text)")
            #expect(rotated.json.keys == ["message", "access_token", "refresh_token", "user"])
            let second = try #require(rotated.json["refresh_token"]?.string)
            let newAccess = try #require(rotated.json["access_token"]?.string)
            #expect(second != first)
            #expect(try await client.request(.get, "/api/v1/auth/me", token: newAccess).status == .ok)

            // the spent token is refused, and its reuse signs out the family (theft response)
            expectError(try await client.request(.post, "/api/v1/auth/refresh", json: ["refresh_token": first]), .unauthorized, detailsContain: "already used")
            expectError(try await client.request(.post, "/api/v1/auth/refresh", json: ["refresh_token": second]), .unauthorized)
            expectError(try await client.request(.get, "/api/v1/auth/me", token: newAccess), .unauthorized, detailsContain: "revoked")
            expectError(try await client.request(.post, "/api/v1/auth/refresh", json: ["refresh_token": "made-up"]), .unauthorized)
            expectError(try await client.request(.post, "/api/v1/auth/refresh", json: [:] as JSONObject), .badRequest, detailsContain: "refresh_token")
        }
    }

    @Test("Logout revokes the access token and its refresh token; other sessions stay")
    func logout() async throws {
        try await withApp { client, _ in
            let session = try await client.login("admin@test.com", "Admin123!")
            let other = try await client.login("admin@test.com", "Admin123!")
            let access = try #require(session["access_token"]?.string)
            let refresh = try #require(session["refresh_token"]?.string)
            let out = try await client.request(.post, "/api/v1/auth/logout", token: access)
            #expect(out.status == .ok)
            #expect(out.json.keys == ["message"])
            expectError(try await client.request(.get, "/api/v1/auth/me", token: access), .unauthorized, detailsContain: "revoked")
            expectError(try await client.request(.post, "/api/v1/auth/logout", token: access), .unauthorized)
            expectError(try await client.request(.post, "/api/v1/auth/refresh", json: ["refresh_token": refresh]), .unauthorized)
            let otherAccess = try #require(other["access_token"]?.string)
            #expect(try await client.request(.get, "/api/v1/auth/me", token: otherAccess).status == .ok)
        }
    }

    @Test("Blocked users cannot log in and their existing tokens stop working")
    func blockedUser() async throws {
        try await withApp { client, _ in
            let admin = try await client.adminToken()
            let patient = try await client.makeUser(role: "patient", email: "blocked@example.com")
            let session = try await client.login("blocked@example.com", "Password1!")
            let refresh = try #require(session["refresh_token"]?.string)
            let block = try await client.request(.put, "/api/v1/users/\(patient.id)", token: admin, json: ["is_status": "blocked"])
            #expect(block.status == .ok, "\(block.text)")
            // every answer says the account is blocked, so the client can tell its user (not "signed out", not "token theft")
            expectError(try await client.request(.get, "/api/v1/auth/me", token: patient.token), .unauthorized, detailsContain: "This account is blocked")
            expectError(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "blocked@example.com", "password": "Password1!"]), .forbidden, detailsContain: "blocked")
            expectError(try await client.request(.post, "/api/v1/auth/refresh", json: ["refresh_token": refresh]), .forbidden, detailsContain: "This account is blocked")
            // unblocking lets them sign in again, but old tokens stay dead
            #expect(try await client.request(.put, "/api/v1/users/\(patient.id)", token: admin, json: ["is_status": "active"]).status == .ok)
            #expect(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "blocked@example.com", "password": "Password1!"]).status == .ok)
            expectError(try await client.request(.get, "/api/v1/auth/me", token: patient.token), .unauthorized, detailsContain: "ended when the account was blocked")
            expectError(try await client.request(.post, "/api/v1/auth/refresh", json: ["refresh_token": refresh]), .unauthorized, detailsContain: "ended when the account was blocked")
        }
    }

    @Test("Bad tokens are 401: none, garbage, wrong scheme, alg none, HS512, wrong secret, expired, unknown user")
    func badTokens() async throws {
        try await withApp { client, services in
            let adminId = try #require(try await services.users.find(email: "admin@test.com")?.id.apiString)
            expectError(try await client.request(.get, "/api/v1/auth/me"), .unauthorized, detailsContain: "Bearer")
            expectError(try await client.request(.get, "/api/v1/auth/me", headers: [.authorization: "Basic YWRtaW46eA=="]), .unauthorized)
            expectError(try await client.request(.get, "/api/v1/auth/me", token: "garbage"), .unauthorized)

            let now = Int(Date().timeIntervalSince1970)
            let claims: JSONObject = ["sub": adminId, "role": "admin", "email": "admin@test.com", "iat": now, "exp": now + 600, "jti": UUID().uuidString]
            let unsigned = forgeToken(header: ["alg": "none", "typ": "JWT"], claims: claims, signature: "")
            expectError(try await client.request(.get, "/api/v1/auth/me", token: unsigned), .unauthorized, detailsContain: "HS256")
            let hs512 = try await signToken(claims: claims, secret: testJWTSecret, digest: .sha512)
            expectError(try await client.request(.get, "/api/v1/auth/me", token: hs512), .unauthorized, detailsContain: "HS256")
            let otherSecret = try await signToken(claims: claims, secret: String(repeating: "x", count: 40))
            expectError(try await client.request(.get, "/api/v1/auth/me", token: otherSecret), .unauthorized)
            var expiredClaims = claims
            expiredClaims["exp"] = now - 10
            let expired = try await signToken(claims: expiredClaims, secret: testJWTSecret)
            expectError(try await client.request(.get, "/api/v1/auth/me", token: expired), .unauthorized, detailsContain: "expired")
            var ghost = claims
            ghost["sub"] = UUID().uuidString
            expectError(try await client.request(.get, "/api/v1/auth/me", token: try await signToken(claims: ghost, secret: testJWTSecret)), .unauthorized)
            // the same claims signed properly do work, so the refusals above are about the token, not the claims
            #expect(try await client.request(.get, "/api/v1/auth/me", token: try await signToken(claims: claims, secret: testJWTSecret)).status == .ok)
        }
    }

    @Test("Supabase-shaped tokens signed with the same secret map to the user; logout revokes them too")
    func supabaseTokens() async throws {
        try await withApp { client, services in
            let admin = try #require(try await services.users.find(email: "admin@test.com"))
            let now = Int(Date().timeIntervalSince1970)
            let claims: JSONObject = [
                "sub": admin.id.apiString, "email": "admin@test.com", "role": "authenticated", "aud": "authenticated",
                "iat": now, "exp": now + 600, "session_id": UUID().uuidString,
            ]
            let token = try await signToken(claims: claims, secret: testJWTSecret)
            let me = try await client.request(.get, "/api/v1/auth/me", token: token)
            #expect(me.status == .ok, "\(me.text)")
            #expect(me.json["user"]?["id"]?.string == admin.id.apiString)
            #expect(me.json["user"]?["role"]?.string == "admin")
            #expect(try await client.request(.post, "/api/v1/auth/logout", token: token).status == .ok)
            expectError(try await client.request(.get, "/api/v1/auth/me", token: token), .unauthorized, detailsContain: "revoked")
        }
    }

    @Test("Login is rate limited per client address, with Retry-After")
    func loginRateLimitPerAddress() async throws {
        try await withApp(configure: { $0.loginAttemptsPerMinute = 3 }) { client, _ in
            for _ in 0..<3 {
                _ = try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "x@example.com", "password": "Whatever1"])
            }
            let limited = try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "admin@test.com", "password": "Admin123!"])
            expectError(limited, .tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
        }
    }

    @Test("Failed logins are rate limited per account; other accounts are not affected")
    func loginRateLimitPerAccount() async throws {
        try await withApp(configure: { $0.loginFailuresPerAccount = 2 }) { client, _ in
            _ = try await client.makeUser(role: "patient", email: "victim@example.com")
            for _ in 0..<2 {
                expectError(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "victim@example.com", "password": "Guess1234"]), .unauthorized)
            }
            let locked = try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "victim@example.com", "password": "Password1!"])
            expectError(locked, .tooManyRequests)
            #expect(locked.headers[.retryAfter] != nil)
            #expect(try await client.request(.post, "/api/v1/auth/email/login", json: ["email": "admin@test.com", "password": "Admin123!"]).status == .ok)
        }
    }

    @Test("Registration is rate limited per client address")
    func registerRateLimit() async throws {
        try await withApp(configure: { $0.registrationsPerHour = 2 }) { client, _ in
            for index in 0..<2 {
                let response = try await client.request(.post, "/api/v1/auth/email/register", json: ["email": "r\(index)@example.com", "password": "Password1!", "name": "R"])
                #expect(response.status == .created)
            }
            let limited = try await client.request(.post, "/api/v1/auth/email/register", json: ["email": "r9@example.com", "password": "Password1!", "name": "R"])
            expectError(limited, .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
        }
    }
}

/// A JWT with an arbitrary header and signature, for refusal tests.
func forgeToken(header: JSONObject, claims: JSONObject, signature: String) -> String {
    let encode = { (object: JSONObject) in Base64URL.encode(try! JSONSerialization.data(withJSONObject: object)) }
    return "\(encode(header)).\(encode(claims)).\(signature)"
}

/// Hash functions for forging HMAC tokens.
enum TestDigest {
    case sha256, sha512
}

/// A correctly signed HMAC JWT with arbitrary claims.
func signToken(claims: JSONObject, secret: String, digest: TestDigest = .sha256) async throws -> String {
    let alg = digest == .sha256 ? "HS256" : "HS512"
    let signingInput = String(forgeToken(header: ["alg": alg, "typ": "JWT"], claims: claims, signature: "").dropLast())
    let key = SymmetricKey(data: Data(secret.utf8))
    let signature: [UInt8] =
        switch digest {
        case .sha256: Array(HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: key))
        case .sha512: Array(HMAC<SHA512>.authenticationCode(for: Data(signingInput.utf8), using: key))
        }
    return "\(signingInput).\(Base64URL.encode(signature))"
}
