import Ingest
import Logging
import PostgresNIO
import Synchronization

/// The store's connections: postgres-nio's pool, lent one operation at a time within bounds on
/// how long an operation waits for a connection and how long it may take in all.
struct PostgresConnections: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// How long an operation waits for a connection before it gives up as ``StoreUnavailable``.
    let connectionWait: Duration
    /// How long an operation may take in all, its connection wait included.
    let operationTimeout: Duration

    /// Runs `body` in one transaction on a pooled connection: committed when it returns,
    /// rolled back when it throws.
    @discardableResult
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let logger = logger
        return try await withConnection { connection -> T in
            try await connection.execute("BEGIN", logger: logger)
            do {
                let value = try await body(connection)
                try await connection.execute("COMMIT", logger: logger)
                return value
            } catch {
                // A connection the server dropped rolled back by itself, and is never asked again.
                if !PostgresStore.connectionIsLost(error) { _ = try? await connection.query("ROLLBACK", logger: logger) }
                throw error
            }
        }
    }

    /// Runs `body` on a pooled connection, outside a transaction (reads that need one snapshot
    /// take a ``transaction(_:)``). Both waits are bounded, so that no caller hangs on a database
    /// that went away: for the connection, ``connectionWait`` (past it, or when the pool gives up
    /// on the server, ``StoreUnavailable``); for the whole operation, ``operationTimeout`` (past it
    /// the connection is closed, which fails what it was waiting for, and the operation throws
    /// ``StoreUnavailable``: a connection the server dropped mid-query is not always noticed).
    /// A caller cancelled while it waits for a connection returns at once.
    ///
    /// The work runs in a task of its own, so that the caller returns at these bounds even when
    /// the pool does not answer its cancellation (it keeps retrying a server that is down).
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let operation = BoundedOperation<T>()
        let client = client
        let (wait, timeout) = (connectionWait, operationTimeout)
        return try await PostgresStore.mappingErrors {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    operation.begin(
                        continuation,
                        work: Task {
                            do {
                                let value = try await client.withConnection { connection in
                                    operation.acquired(connection)
                                    return try await body(connection)
                                }
                                operation.end(.success(value))
                            } catch  where operation.connection == nil && !(error is PSQLError) {
                                // The pool's own errors (its circuit breaker tripped: the server keeps refusing).
                                operation.end(.failure(StoreUnavailable(reason: "no database connection could be made (\(error))")))
                            } catch {
                                operation.end(.failure(error))
                            }
                        },
                        watchdog: Task {
                            try await Task.sleep(for: wait)
                            guard let connection = operation.connection else {
                                operation.abandon(StoreUnavailable(reason: "no database connection within \(wait)"))
                                return
                            }
                            try await Task.sleep(for: timeout - wait)
                            try? await connection.close()
                            operation.abandon(StoreUnavailable(reason: "the database did not answer within \(timeout)"))
                        })
                }
            } onCancel: {
                if operation.connection == nil { operation.abandon(CancellationError()) }
            }
        }
    }

    /// One operation's work and watchdog, and the caller waiting for whichever ends it first.
    private final class BoundedOperation<Value: Sendable>: Sendable {
        private struct State {
            var caller: CheckedContinuation<Value, any Error>?
            var work: Task<Void, Never>?
            var watchdog: Task<Void, any Error>?
            var connection: PostgresConnection?
            /// How the operation ended before `begin` handed over the caller (the work was quick,
            /// or the caller was cancelled at once).
            var early: Result<Value, any Error>?
            var answered = false
        }

        private let state = Mutex(State())

        var connection: PostgresConnection? { state.withLock { $0.connection } }

        func begin(_ caller: CheckedContinuation<Value, any Error>, work: Task<Void, Never>, watchdog: Task<Void, any Error>) {
            let early = state.withLock { state -> Result<Value, any Error>? in
                state.work = work
                state.watchdog = watchdog
                guard let early = state.early else {
                    state.caller = caller
                    return nil
                }
                return early
            }
            guard let early else { return }
            watchdog.cancel()
            if case .failure = early { work.cancel() }
            caller.resume(with: early)
        }

        func acquired(_ connection: PostgresConnection) {
            state.withLock { $0.connection = connection }
        }

        /// The work ended: the caller gets its result, unless it was answered already.
        func end(_ result: Result<Value, any Error>) {
            answer(result, cancellingWork: false)
        }

        /// The caller is answered with `error` now; the work is cancelled and left to end by itself.
        func abandon(_ error: any Error) {
            answer(.failure(error), cancellingWork: true)
        }

        private func answer(_ result: Result<Value, any Error>, cancellingWork: Bool) {
            let (caller, work, watchdog) = state.withLock { state -> (CheckedContinuation<Value, any Error>?, Task<Void, Never>?, Task<Void, any Error>?) in
                guard !state.answered else { return (nil, nil, nil) }
                state.answered = true
                if state.caller == nil { state.early = result }
                defer { state.caller = nil }
                return (state.caller, state.work, state.watchdog)
            }
            if cancellingWork { work?.cancel() } else { watchdog?.cancel() }
            caller?.resume(with: result)
        }
    }
}
