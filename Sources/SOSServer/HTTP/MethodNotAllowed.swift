import Hummingbird

/// Answers a known path with a method it does not serve with 405 and an `Allow` header (Hummingbird's
/// router alone would say 404), and `OPTIONS` with 204 and `Allow`.
enum MethodNotAllowed {
    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .trace, HTTPRequest.Method("QUERY")!]

    /// Call after every route is registered.
    static func register(on router: Router<AppRequestContext>) {
        var byPath: [String: (path: RouterPath, methods: Set<HTTPRequest.Method>)] = [:]
        for route in router.routes {
            byPath[route.path.description, default: (route.path, [])].methods.insert(route.method)
        }
        for (_, entry) in byPath {
            var served = entry.methods
            if served.contains(.get) { served.insert(.head) }
            let allow = (served.union([.options])).map(\.rawValue).sorted().joined(separator: ", ")
            for method in Self.methods + [.head] where !served.contains(method) {
                router.on(entry.path, method: method) { request, _ -> Response in
                    throw APIError(
                        .methodNotAllowed, "Method not allowed",
                        "\(request.method) is not supported on \(request.uri.path); use one of: \(allow).",
                        headers: [.allow: allow]
                    )
                }
            }
            if !served.contains(.options) {
                router.on(entry.path, method: .options) { _, _ -> Response in
                    Response(status: .noContent, headers: [.allow: allow])
                }
            }
        }
    }
}
