import Foundation
import JWTKit
import SOSDomain

/// Claims of our access tokens, and of Supabase tokens signed with the same secret.
struct AccessClaims: JWTPayload {
    var sub: SubjectClaim
    var role: String?
    var email: String?
    var iat: IssuedAtClaim?
    var exp: ExpirationClaim
    var jti: IDClaim?
    var aud: AudienceClaim?

    func verify(using algorithm: some JWTAlgorithm) throws {
        try self.exp.verifyNotExpired()
    }
}

/// HS256 JWTs: `sub`, `role`, `email`, `iat`, `exp`, `jti`. Any other algorithm, `none` included, is refused.
///
/// Supabase-shaped tokens (`aud`/`role` = `authenticated`) signed with the same secret are accepted and
/// map to the user whose id is `sub`.
struct JWTAccessTokenCodec: AccessTokenCodec {
    let keys: JWTKeyCollection
    let secrets: SystemSecrets

    init(secret: String, secrets: SystemSecrets) async {
        self.keys = JWTKeyCollection()
        self.secrets = secrets
        await self.keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    }

    func issue(for user: User, key: String, issuedAt: Date, expiresAt: Date) async throws -> String {
        let claims = AccessClaims(
            sub: SubjectClaim(value: user.id.uuidString.lowercased()),
            role: user.role.rawValue,
            email: user.email ?? "",
            iat: IssuedAtClaim(value: issuedAt),
            exp: ExpirationClaim(value: expiresAt),
            jti: IDClaim(value: key),
            aud: nil
        )
        return try await self.keys.sign(claims, header: ["typ": "JWT"])
    }

    func verify(_ token: String) async throws -> VerifiedToken {
        try Self.checkHeader(token)
        let claims: AccessClaims
        do {
            claims = try await self.keys.verify(token, as: AccessClaims.self)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw DomainError.unauthorized("The access token expired. Get a new one from /api/v1/auth/refresh or sign in again.")
        } catch {
            throw DomainError.unauthorized("The access token is not valid (bad signature or malformed). Sign in again.")
        }
        guard let userId = UUID(uuidString: claims.sub.value) else {
            throw DomainError.unauthorized("The access token's subject is not a user id.")
        }
        let isSupabase = claims.aud?.value.contains("authenticated") == true || claims.role == "authenticated"
        let key: String
        if let jti = claims.jti?.value, !jti.isEmpty {
            key = isSupabase ? "supabase:\(jti)" : jti
        } else if isSupabase {
            key = "sha256:\(self.secrets.digest(token))"
        } else {
            throw DomainError.unauthorized("The access token has no 'jti' claim. Sign in again to get a current token.")
        }
        return VerifiedToken(userId: userId, key: key, expiresAt: claims.exp.value)
    }

    /// Refuses tokens whose header does not say HS256, before any signature work.
    static func checkHeader(_ token: String) throws {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Base64URL.decode(parts[0]),
              let header = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            throw DomainError.unauthorized("The access token is malformed; expected a JWT (header.payload.signature).")
        }
        guard let alg = header["alg"] as? String, alg == "HS256" else {
            throw DomainError.unauthorized("The access token must be signed with HS256; other algorithms (including 'none') are refused.")
        }
    }
}
