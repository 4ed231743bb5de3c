/// A page request as the seed defines it: `page` from 1, `limit` default 10 and at most 100.
public struct PageRequest: Sendable, Equatable {
    public static let defaultLimit = 10
    public static let maximumLimit = 100
    /// Larger `page` or `limit` values are refused rather than clamped: they can only be mistakes.
    public static let absurd = 1_000_000

    public let page: Int
    public let limit: Int

    /// Validates `page` ≥ 1 and `limit` ≥ 1; a `limit` above `maximum` is clamped, as the contract says.
    public init(page: Int? = nil, limit: Int? = nil, maximum: Int = PageRequest.maximumLimit, defaultLimit: Int = PageRequest.defaultLimit) throws {
        let page = page ?? 1
        let limit = limit ?? defaultLimit
        guard (1...Self.absurd).contains(page) else {
            throw DomainError.invalid("'page' must be an integer from 1 to \(Self.absurd) (got \(page)).")
        }
        guard (1...Self.absurd).contains(limit) else {
            throw DomainError.invalid("'limit' must be an integer from 1 to \(maximum); larger values up to \(Self.absurd) are clamped (got \(limit)).")
        }
        self.page = page
        self.limit = min(limit, maximum)
    }

    /// Number of rows to skip; saturates instead of overflowing for absurd page numbers.
    public var offset: Int {
        let (product, overflow) = (self.page - 1).multipliedReportingOverflow(by: self.limit)
        return overflow ? Int.max / 2 : product
    }
}

/// One page of results plus the total count across all pages.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var total: Int
    public var request: PageRequest

    public init(items: [Item], total: Int, request: PageRequest) {
        self.items = items
        self.total = total
        self.request = request
    }

    /// `ceil(total / limit)`.
    public var totalPages: Int { (self.total + self.request.limit - 1) / self.request.limit }

    public func map<T: Sendable>(_ transform: (Item) throws -> T) rethrows -> Page<T> {
        Page<T>(items: try self.items.map(transform), total: self.total, request: self.request)
    }
}

/// Sort direction for list endpoints (`sortOrder`).
public enum SortOrder: String, DomainEnum {
    case asc
    case desc
}
