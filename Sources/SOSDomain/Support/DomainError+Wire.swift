/// How each kind of domain error reads on the wire: the HTTP status REST answers with and the `code` of the hub's
/// `error` frame. It is the one table, so the two edges cannot come to disagree (REST once said 402 where the hub
/// said `forbidden`).
extension DomainError.Kind {
    /// `(HTTP status, WebSocket error code)`.
    public var wire: (status: Int, code: String) {
        switch self {
        case .invalid: (400, "bad_request")
        case .unauthorized: (401, "unauthorized")
        case .paymentRequired: (402, "payment_required")
        case .forbidden: (403, "forbidden")
        case .notFound: (404, "not_found")
        case .conflict: (409, "conflict")
        case .tooLarge: (413, "bad_request")
        case .unsupportedMediaType: (415, "bad_request")
        case .rateLimited: (429, "rate_limited")
        case .upstreamFailure: (502, "server_error")
        case .unavailable: (503, "unavailable")
        }
    }

    /// Every kind, for tests that check both edges against this table.
    public static let allKinds: [DomainError.Kind] = [
        .invalid, .unauthorized, .paymentRequired, .forbidden, .notFound, .conflict, .tooLarge, .unsupportedMediaType, .rateLimited,
        .upstreamFailure, .unavailable,
    ]
}
