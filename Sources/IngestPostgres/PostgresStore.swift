import Foundation
public import Ingest
public import Logging
import PostgresNIO
import Synchronization

/// The store of a deployment of many nodes: one PostgreSQL database, through postgres-nio's
/// connection pool. Every method is one transaction; the queue claims with `FOR UPDATE SKIP
/// LOCKED`, so workers on any node never take the same job; event ids are handed out in commit
/// order (see ``PostgresSchema``); idle workers wake on `LISTEN/NOTIFY`.
public final class PostgresStore: IntakeStore {
    let client: PostgresClient
    private let running: Task<Void, Never>
    let clock: any IngestClock
    let retry: RetryPolicy
    let jitter: @Sendable () -> Double
    let logger: Logger
    let wakeups: JobWakeups
    /// How long an operation waits for a connection before it gives up as ``StoreUnavailable``.
    let connectionWait: Duration

    /// Connects to `location` (a pool of at most `maximumConnections`), applies the migrations
    /// the database lacks and starts listening for new jobs. Throws ``StoreUnavailable`` when the
    /// database cannot be reached.
    ///
    /// - Parameters:
    ///   - connectionWait: how long any operation waits for a connection (the database is down,
    ///     or every connection is busy) before it throws ``StoreUnavailable``.
    ///   - jitter: a number in 0...1 for each retry delay; random by default.
    public static func open(
        _ location: PostgresLocation, maximumConnections: Int = 16, connectionWait: Duration = .seconds(5), clock: any IngestClock = SystemClock(),
        retry: RetryPolicy = RetryPolicy(), jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
        logger: Logger = Logger(label: "intake.postgres")
    ) async throws -> PostgresStore {
        let store = PostgresStore(
            location, maximumConnections: maximumConnections, connectionWait: connectionWait, clock: clock, retry: retry, jitter: jitter, logger: logger)
        do {
            try await store.read { connection in try await PostgresSchema.migrate(connection, logger: logger) }
        } catch {
            try? await store.close()
            throw error
        }
        store.wakeups.start(client: store.client, logger: logger)
        return store
    }

    private init(
        _ location: PostgresLocation, maximumConnections: Int, connectionWait: Duration, clock: any IngestClock, retry: RetryPolicy,
        jitter: @escaping @Sendable () -> Double, logger: Logger
    ) {
        var configuration = location.clientConfiguration
        // One more than asked: the connection that listens for new jobs holds one for good.
        configuration.options.maximumConnections = max(maximumConnections, 1) + 1
        configuration.options.connectTimeout = .seconds(5)
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        self.client = client
        running = Task { await client.run() }
        self.clock = clock
        self.retry = retry
        self.jitter = jitter
        self.logger = logger
        self.connectionWait = connectionWait
        wakeups = JobWakeups()
    }

    public func close() async throws {
        wakeups.stop()
        running.cancel()
        await running.value
    }

    /// Runs `body` in one transaction on a pooled connection: committed when it returns,
    /// rolled back when it throws.
    @discardableResult
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let logger = logger
        return try await read { connection -> T in
            try await connection.query("BEGIN", logger: logger)
            do {
                let value = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Runs `body` on a pooled connection, outside a transaction (reads that need one snapshot
    /// take a ``transaction(_:)``). Waiting for the connection is bounded by ``connectionWait``:
    /// past it, or when the pool gives up on the server, ``StoreUnavailable``.
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let acquired = Acquired()
        let client = client
        let wait = connectionWait
        return try await mappingErrors {
            try await withThrowingTaskGroup(of: Outcome<T>.self) { group in
                group.addTask {
                    do {
                        return .value(try await client.withConnection { connection in
                            acquired.mark()
                            return try await body(connection)
                        })
                    } catch where !acquired.done && !(error is PSQLError) {
                        // The pool's own errors (its circuit breaker tripped: the server keeps refusing).
                        throw StoreUnavailable(reason: "no database connection could be made (\(error))")
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: wait)
                    if !acquired.done && !Task.isCancelled {
                        throw StoreUnavailable(reason: "no database connection within \(wait)")
                    }
                    return .waited
                }
                while let outcome = try await group.next() {
                    if case .value(let value) = outcome {
                        group.cancelAll()
                        return value
                    }
                }
                preconditionFailure("the operation's task returns a value or throws")
            }
        }
    }

    /// What one of an operation's two tasks ended with.
    private enum Outcome<Value: Sendable>: Sendable {
        case value(Value)
        /// The watchdog's wait ended with the connection in hand (or was cancelled).
        case waited
    }

    /// Whether an operation got its connection.
    private final class Acquired: Sendable {
        private let state = Mutex(false)
        var done: Bool { state.withLock { $0 } }
        func mark() { state.withLock { $0 = true } }
    }

    static func newID() -> String { UUID().uuidString.lowercased() }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

extension PostgresConnection {
    /// The rows of `query`, each as random access by column name.
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in try await self.query(query, logger: logger) { rows.append(row.makeRandomAccess()) }
        return rows
    }

    /// The first row of `query`, or nil.
    func row(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRandomAccessRow? {
        try await rows(query, logger: logger).first
    }

    /// Runs `query`, reading whatever rows it returns; returns how many (a statement that
    /// changes rows says how many with `RETURNING 1`).
    @discardableResult
    func execute(_ query: PostgresQuery, logger: Logger) async throws -> Int {
        var count = 0
        for try await _ in try await self.query(query, logger: logger) { count += 1 }
        return count
    }
}

extension PostgresRandomAccessRow {
    /// The value of `column`, decoded as `T` (an optional for a nullable column).
    func get<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self, context: .default)
    }
}
