import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Serves the browser client (`web-demo/` under `SOS_ASSETS_DIR`) at `/` and the protocol documents at
/// `/protocol/…`, with Hummingbird's `FileMiddleware` (ETag, `If-None-Match` → 304, content types); pages get
/// the client's strict Content-Security-Policy (`SecurityHeadersMiddleware` gives everything else its own).
///
/// API paths never touch the file system: a 404 under `/api/` stays the API's 404.
struct WebClientMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let client: FileMiddleware<AppRequestContext, LocalFileSystem>?
    let protocolDocuments: FileMiddleware<AppRequestContext, LocalFileSystem>?
    let policy: ContentSecurityPolicy

    init(assetsDirectory: String, policy: ContentSecurityPolicy, logger: Logger) {
        func folder(_ name: String) -> String? {
            let path = (assetsDirectory as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue ? path : nil
        }
        self.client = folder("web-demo").map {
            FileMiddleware($0, searchForIndexHtml: true, logger: logger).withAdditionalMediaTypes(forFileExtensions: Self.mediaTypes)
        }
        self.protocolDocuments = folder("protocol").map {
            FileMiddleware($0, urlBasePath: "/protocol", logger: logger).withAdditionalMediaTypes(forFileExtensions: Self.mediaTypes)
        }
        self.policy = policy
    }

    static let mediaTypes: [String: MediaType] = [
        "js": MediaType(type: .application, subType: "javascript", parameter: ("charset", "utf-8")),
        "mjs": MediaType(type: .application, subType: "javascript", parameter: ("charset", "utf-8")),
        "css": MediaType(type: .text, subType: "css", parameter: ("charset", "utf-8")),
        "html": MediaType(type: .text, subType: "html", parameter: ("charset", "utf-8")),
        "md": MediaType(type: .text, subType: "markdown", parameter: ("charset", "utf-8")),
        "yaml": MediaType(type: .application, subType: "yaml", parameter: ("charset", "utf-8")),
        "json": MediaType(type: .application, subType: "json", parameter: ("charset", "utf-8")),
        "svg": MediaType(type: .image, subType: "svg+xml"),
        "webmanifest": MediaType(type: .application, subType: "manifest+json"),
    ]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if Self.isServerPath(path) {
            return try await next(request, context)
        }
        if path.hasPrefix("/protocol/"), let documents = self.protocolDocuments {
            var response = try await documents.handle(request, context: context, next: next)
            Self.revalidate(&response)
            return response
        }
        guard let client = self.client else { return try await next(request, context) }
        var response = try await client.handle(request, context: context, next: next)
        Self.revalidate(&response)
        if response.headers[.contentType]?.hasPrefix("text/html") == true {
            response.headers[.contentSecurityPolicy] = path.hasPrefix("/docs") ? self.policy.documentation : self.policy.page
            response.headers[.xFrameOptions] = "DENY"
            response.headers[.referrerPolicy] = "no-referrer"
        }
        return response
    }

    /// Files are not content-hashed, so a browser revalidates each one (`no-cache` + the ETag → 304): a new
    /// release shows at once, an unchanged file costs one small round trip.
    static func revalidate(_ response: inout Response) {
        if response.headers[.eTag] != nil { response.headers[.cacheControl] = "no-cache" }
    }

    /// Paths the server itself answers (API, operations, uploads); everything else may be a client file.
    static func isServerPath(_ path: String) -> Bool {
        path.hasPrefix("/api/") || path == "/api" || path.hasPrefix("/uploads/") || ["/health", "/ready", "/metrics"].contains(path)
    }
}

/// The outermost middleware: `nosniff` on every response, and for anything that is not a page of the client
/// (API answers, errors, uploads) a policy that lets nothing load from it.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        if response.headers[.contentSecurityPolicy] == nil { response.headers[.contentSecurityPolicy] = ContentSecurityPolicy.api }
        return response
    }
}

/// The Content-Security-Policy headers: no inline script anywhere, connections only to this server (and to
/// Stripe's hosts only when a publishable key is configured).
struct ContentSecurityPolicy: Sendable {
    let page: String
    let documentation: String

    /// API answers are data, never documents: nothing may load from them.
    static let api = "default-src 'none'; frame-ancestors 'none'"

    init(stripe: Bool) {
        // step: 'self' in connect-src covers ws:/wss: to the same host (CSP level 3)
        var script = ["'self'"]
        var frame = ["'none'"]
        var connect = ["'self'"]
        if stripe {
            script.append("https://js.stripe.com")
            frame = ["https://js.stripe.com", "https://hooks.stripe.com"]
            connect.append("https://api.stripe.com")
        }
        let common = [
            "default-src 'self'", "base-uri 'none'", "object-src 'none'", "form-action 'self'", "frame-ancestors 'none'",
            "img-src 'self' data: blob:", "media-src 'self' blob:", "font-src 'self'",
        ]
        self.page = (common + [
            "script-src \(script.joined(separator: " "))", "style-src 'self'", "frame-src \(frame.joined(separator: " "))",
            "connect-src \(connect.joined(separator: " "))",
        ]).joined(separator: "; ")
        // step: the API reference (Swagger UI) sets style attributes from script; still no inline or remote script
        self.documentation = (common + ["script-src 'self'", "style-src 'self' 'unsafe-inline'", "frame-src 'none'", "connect-src 'self'"])
            .joined(separator: "; ")
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
