import SOSDomain
import SQLKit

/// One page of rows and the total count in a single round trip: the page query carries
/// `COUNT(*) OVER () AS total_count`; only a page past the end needs a separate count.
enum Paging {
    /// `select` must select `COUNT(*) OVER () AS total_count` and end with its ORDER BY; `count` must select `total`.
    static func fetch(_ sql: any SQLDatabase, select: SQLQueryString, count: SQLQueryString, page: PageRequest) async throws -> (rows: [any SQLRow], total: Int) {
        let rows = try await sql.raw(select + " LIMIT \(bind: page.limit) OFFSET \(bind: page.offset)").all()
        if let first = rows.first {
            return (rows, try first.value("total_count", as: Int.self))
        }
        guard page.offset > 0 else { return ([], 0) }
        return ([], try await sql.raw(count).first()?.value("total", as: Int.self) ?? 0)
    }

    /// A kept statement's page (`Database.rows(_:)`): the rows' values, and the total that every row carries; nil past
    /// the end, where no row carries it and the caller counts apart (as `fetch` does).
    static func kept<Item>(_ rows: [(Item, Int)], page: PageRequest) -> (items: [Item], total: Int?) {
        (rows.map(\.0), rows.first?.1 ?? (page.offset > 0 ? nil : 0))
    }
}
