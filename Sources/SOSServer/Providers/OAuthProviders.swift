import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import SOSDomain

/// One provider's OAuth settings (`GOOGLE_*`, `FACEBOOK_*`, `INSTAGRAM_*`); every URL is configurable so tests
/// can point them at a fake provider on loopback.
public struct OAuthSettings: Sendable, Equatable {
    public var clientId: String
    public var clientSecret: String
    public var redirectURI: String
    public var authorizeURL: String
    public var tokenURL: String
    public var profileURL: String
    public var scope: String

    public init(clientId: String, clientSecret: String, redirectURI: String, authorizeURL: String, tokenURL: String, profileURL: String, scope: String) {
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.redirectURI = redirectURI
        self.authorizeURL = authorizeURL
        self.tokenURL = tokenURL
        self.profileURL = profileURL
        self.scope = scope
    }

    /// The provider's public endpoints and the scopes we ask for.
    static func defaults(_ provider: SocialProvider) -> (authorize: String, token: String, profile: String, scope: String) {
        switch provider {
        case .google:
            ("https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token",
             "https://openidconnect.googleapis.com/v1/userinfo", "openid email profile")
        case .facebook:
            ("https://www.facebook.com/v19.0/dialog/oauth", "https://graph.facebook.com/v19.0/oauth/access_token",
             "https://graph.facebook.com/v19.0/me", "email,public_profile")
        case .instagram:
            ("https://www.instagram.com/oauth/authorize", "https://api.instagram.com/oauth/access_token",
             "https://graph.instagram.com/me", "instagram_business_basic")
        }
    }
}

/// The authorization code flow over HTTP for Google (OpenID Connect userinfo), Facebook (Graph `/me`) and
/// Instagram (Graph `/me`). PKCE (S256) for Google and Facebook.
struct HTTPOAuthProvider: OAuthProviderClient {
    let provider: SocialProvider
    let settings: OAuthSettings
    let client: HTTPClient

    var supportsPKCE: Bool { self.provider != .instagram }

    func authorizationURL(state: String, codeChallenge: String?) -> String {
        var query: [(String, String)] = [
            ("response_type", "code"), ("client_id", self.settings.clientId), ("redirect_uri", self.settings.redirectURI),
            ("scope", self.settings.scope), ("state", state),
        ]
        if let codeChallenge { query += [("code_challenge", codeChallenge), ("code_challenge_method", "S256")] }
        let separator = self.settings.authorizeURL.contains("?") ? "&" : "?"
        return self.settings.authorizeURL + separator + FormEncoding.encode(query)
    }

    func profile(code: String, codeVerifier: String?) async throws -> SocialProfile {
        let name = self.provider.displayName
        var form: [(String, String)] = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", self.settings.redirectURI),
            ("client_id", self.settings.clientId), ("client_secret", self.settings.clientSecret),
        ]
        if let codeVerifier { form.append(("code_verifier", codeVerifier)) }
        var tokenRequest = HTTPClientRequest(url: self.settings.tokenURL)
        tokenRequest.method = .POST
        tokenRequest.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        tokenRequest.headers.add(name: "Accept", value: "application/json")
        tokenRequest.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))
        let token = try await self.json(tokenRequest, step: "code exchange")
        guard case .string(let accessToken)? = token["access_token"], !accessToken.isEmpty else {
            throw DomainError(.upstreamFailure, message: "Sign-in provider error", details: "\(name) answered the code exchange without an access token.")
        }

        var profileURL = self.settings.profileURL
        var profileRequest: HTTPClientRequest
        switch self.provider {
        case .google:
            profileRequest = HTTPClientRequest(url: profileURL)
            profileRequest.headers.add(name: "Authorization", value: "Bearer \(accessToken)")
        case .facebook, .instagram:
            let fields = self.provider == .facebook ? "id,name,email,picture" : "user_id,username"
            profileURL += (profileURL.contains("?") ? "&" : "?") + FormEncoding.encode([("fields", fields), ("access_token", accessToken)])
            profileRequest = HTTPClientRequest(url: profileURL)
        }
        profileRequest.headers.add(name: "Accept", value: "application/json")
        let profile = try await self.json(profileRequest, step: "profile")
        func string(_ value: JSON?) -> String? {
            switch value {
            case .string(let text)?: text.isEmpty ? nil : text
            case .number(let number)?: String(format: "%.0f", number)
            default: nil
            }
        }
        switch self.provider {
        case .google:
            guard let subject = string(profile["sub"]) else { throw Self.missing(name, "sub") }
            let verified: Bool = switch profile["email_verified"] {
            case .bool(let flag)?: flag
            case .string(let text)?: text == "true"
            default: false
            }
            return SocialProfile(subject: subject, email: string(profile["email"]), emailVerified: verified, name: string(profile["name"]),
                                 picture: string(profile["picture"]))
        case .facebook:
            guard let subject = string(profile["id"]) else { throw Self.missing(name, "id") }
            // step: the Graph API has no "verified" flag for the email, so it never links to an existing account
            return SocialProfile(subject: subject, email: string(profile["email"]), emailVerified: false, name: string(profile["name"]),
                                 picture: string(profile["picture"]?["data"]?["url"]))
        case .instagram:
            guard let subject = string(profile["user_id"]) ?? string(profile["id"]) else { throw Self.missing(name, "user_id") }
            return SocialProfile(subject: subject, email: nil, emailVerified: false, name: string(profile["username"]), picture: nil)
        }
    }

    private static func missing(_ provider: String, _ field: String) -> DomainError {
        DomainError(.upstreamFailure, message: "Sign-in provider error", details: "\(provider)'s profile has no '\(field)'.")
    }

    /// Runs a request; a 4xx means the provider refused (the code was bad or used: 400 to the client), anything
    /// else failing means the provider is unreachable or broken (502).
    private func json(_ request: HTTPClientRequest, step: String) async throws -> JSON {
        let name = self.provider.displayName
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await self.client.execute(request, timeout: .seconds(15))
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw DomainError(.upstreamFailure, message: "Sign-in provider unavailable", details: "\(name) could not be reached (\(step)). Try again shortly.")
        }
        let status = Int(response.status.code)
        if (400..<500).contains(status) {
            throw DomainError.invalid("\(name) refused the sign-in (\(step), HTTP \(status)). Start again from /api/v1/auth/\(self.provider.rawValue).")
        }
        guard (200..<300).contains(status), let json = JSON.parse(String(buffer: body)) else {
            throw DomainError(.upstreamFailure, message: "Sign-in provider error", details: "\(name) answered the \(step) with HTTP \(status).")
        }
        return json
    }
}

/// HMAC-SHA256 keyed with a secret derived from `JWT_SECRET`: one-time codes and OAuth `state`.
struct KeyedSigner: CodeHasher, OAuthStateSigner {
    let key: SymmetricKey

    init(jwtSecret: String) {
        // step: a separate key per purpose, so a code hash can never pass for a token signature
        let derived = HMAC<SHA256>.authenticationCode(for: Data("sos-sign-in-v1".utf8), using: SymmetricKey(data: Data(jwtSecret.utf8)))
        self.key = SymmetricKey(data: Data(derived))
    }

    func hash(_ code: String, for destination: String) -> String {
        Base64URL.encode(HMAC<SHA256>.authenticationCode(for: Data("otp:\(destination):\(code)".utf8), using: self.key))
    }

    func equal(_ a: String, _ b: String) -> Bool {
        // step: constant time for equal lengths (hashes always have the same length)
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func sign(_ payload: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("state:\(payload)".utf8), using: self.key)
        return Base64URL.encode(Data(payload.utf8)) + "." + Base64URL.encode(mac)
    }

    func verify(_ signed: String) -> String? {
        let parts = signed.split(separator: ".")
        guard parts.count == 2, signed.count <= 512, let payloadData = Base64URL.decode(parts[0]), let mac = Base64URL.decode(parts[1]),
              let payload = String(data: payloadData, encoding: .utf8)
        else { return nil }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data("state:\(payload)".utf8), using: self.key) else { return nil }
        return payload
    }

    func pkcePair() -> (verifier: String, challenge: String) {
        let verifier = SystemSecrets().randomToken(bytes: 48)
        return (verifier, Base64URL.encode(SHA256.hash(data: Data(verifier.utf8))))
    }

    func randomId() -> String {
        SystemSecrets().randomToken(bytes: 18)
    }
}
