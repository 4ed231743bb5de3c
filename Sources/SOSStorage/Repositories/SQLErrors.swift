import PostgresNIO
import SQLiteNIO

/// Classifies driver errors so repositories can turn constraint failures into domain errors.
enum SQLErrors {
    /// True for a UNIQUE (or primary key) violation on either engine.
    static func isUniqueViolation(_ error: any Error) -> Bool {
        if let error = error as? SQLiteError {
            return error.reason == .constraintUniqueFailed || error.reason == .constraintPrimaryKeyFailed
                || (error.reason == .constraint && error.message.contains("UNIQUE"))
        }
        if let error = error as? PSQLError {
            return error.serverInfo?[.sqlState] == "23505"
        }
        return false
    }

    /// True for a foreign-key violation on either engine.
    static func isForeignKeyViolation(_ error: any Error) -> Bool {
        if let error = error as? SQLiteError {
            return error.reason == .constraintForeignKeyFailed || (error.reason == .constraint && error.message.contains("FOREIGN KEY"))
        }
        if let error = error as? PSQLError {
            return error.serverInfo?[.sqlState] == "23503"
        }
        return false
    }
}
