/// One forward-only schema change. Statements use `{uuid}`, `{ts}`, `{bool}` placeholders for the
/// column types that differ between SQLite and PostgreSQL.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    let statements: [String]

    init(_ version: Int, _ name: String, _ statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }

    /// The statements with placeholders resolved for `kind`.
    func sql(for kind: DatabaseKind) -> [String] {
        let types: [(String, String)] =
            switch kind {
            case .sqlite: [("{uuid}", "TEXT"), ("{ts}", "REAL"), ("{bool}", "INTEGER")]
            case .postgres: [("{uuid}", "UUID"), ("{ts}", "TIMESTAMPTZ"), ("{bool}", "BOOLEAN")]
            }
        return self.statements.map { statement in
            types.reduce(statement) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
        }
    }
}

extension Migration {
    /// Every migration, in order. Append only: never edit one that has shipped.
    public static let all: [Migration] = [
        .m001Accounts,
        .m002Clinical,
        .m003Payments,
        .m004Realtime,
        .m005SignIn,
        .m006OutboxExpiry,
        .m007OAuthBinding,
        .m008Trust,
        .m009Idempotency,
        .m010Dispatch,
        .m011OnCallSchedule,
    ]
}

extension Migration {
    /// A migration built by tests (e.g. a deliberately broken one).
    public static func testOnly(_ version: Int, _ name: String, _ statements: [String]) -> Migration {
        Migration(version, name, statements)
    }
}
