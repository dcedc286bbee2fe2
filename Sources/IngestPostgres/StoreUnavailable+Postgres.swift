import Ingest
import PostgresNIO

extension PostgresStore {
    /// Runs `body`, reporting a database that cannot be reached (down, restarting, out of
    /// connections) as ``StoreUnavailable`` and a full disk as ``CatalogError/storageFull``: the
    /// reasons the server answers 503 and 507 rather than 500.
    static func mappingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError {
            throw Self.mapped(error)
        }
    }

    /// Whether `error` means the connection is gone (the server closed it, or the network did),
    /// so that nothing more, not even a rollback, can be sent on it. A statement that timed out,
    /// a deadlock or a full disk leave the connection open, in a transaction to roll back.
    static func connectionIsLost(_ error: any Error) -> Bool {
        if error is StoreUnavailable { return true }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return true
        case .server:
            // Class 08 connection exceptions; 57P01-57P03 the server shutting down; 25P03 a
            // transaction idle too long: the server ends the session with each of them.
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "25P03"].contains(state)
        default:
            return false
        }
    }

    static func mapped(_ error: PSQLError) -> any Error {
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return StoreUnavailable(reason: "the database cannot be reached (\(error.code))")
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            // 53100 disk_full; 53200 out of memory, 53300 too many connections, class 08
            // connection exceptions, 57P01-57P03 shutting down or starting up, 57014 a statement
            // over statement_timeout, 25P03 a transaction idle too long, 40001 and 40P01 a
            // serialization failure or deadlock: the same request can succeed later.
            if state == "53100" { return CatalogError.storageFull }
            if state.hasPrefix("08") || ["53200", "53300", "57P01", "57P02", "57P03", "57014", "25P03", "40001", "40P01"].contains(state) {
                return StoreUnavailable(reason: "the database is not available (\(state): \(error.serverInfo?[.message] ?? ""))")
            }
            return error
        default:
            return error
        }
    }
}
