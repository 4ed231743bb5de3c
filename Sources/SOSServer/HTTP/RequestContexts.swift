import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SOSDomain

/// Per-request context for every route: the client address, and the caller once authenticated.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer address of the connection (`nil` in router tests).
    let remoteAddress: SocketAddress?
    /// Set by `AuthenticationMiddleware` on routes that require a token.
    var principal: Principal?
    var maxBodyBytes: Int = 1 << 20

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    public var requestDecoder: APIRequestDecoder { APIRequestDecoder(maxBytes: self.maxBodyBytes) }
    public var responseEncoder: APIResponseEncoder { APIResponseEncoder() }
    public var maxUploadSize: Int { self.maxBodyBytes }
}

/// Context of routes behind authentication: the caller is always known.
public struct AuthenticatedContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    let principal: Principal
    let remoteAddress: SocketAddress?
    let maxBodyBytes: Int

    public init(context: AppRequestContext) throws {
        guard let principal = context.principal else {
            throw APIError.unauthorized("This endpoint needs 'Authorization: Bearer <access_token>'; get a token from POST /api/v1/auth/email/login.")
        }
        self.coreContext = context.coreContext
        self.principal = principal
        self.remoteAddress = context.remoteAddress
        self.maxBodyBytes = context.maxBodyBytes
    }

    public var requestDecoder: APIRequestDecoder { APIRequestDecoder(maxBytes: self.maxBodyBytes) }
    public var responseEncoder: APIResponseEncoder { APIResponseEncoder() }
    public var maxUploadSize: Int { self.maxBodyBytes }
}

extension Request {
    /// The client address used for rate limiting: the socket peer, or, behind a trusted proxy, the last
    /// `X-Forwarded-For` hop — the one that proxy appended. Earlier hops are written by the client and could be
    /// anything, so using them would let a client pick a fresh address per request and escape every limit.
    func clientAddress(remote: SocketAddress?, trustForwardedFor: Bool) -> String {
        if trustForwardedFor, let forwarded = self.headers[.xForwardedFor]?.split(separator: ",").last {
            return forwarded.trimmingCharacters(in: .whitespaces)
        }
        return remote?.ipAddress ?? "unknown"
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
    static let xRequestID = Self("X-Request-Id")!
}
