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
    /// The pool, lent within the bounds below.
    let connections: PostgresConnections
    /// Uploads that finish together, recorded in one transaction (see ``recordBatch(_:connections:)``).
    let uploadBatches: CommitBatcher<PendingUpload, UploadReceipt>
    /// How long an operation waits for a connection before it gives up as ``StoreUnavailable``.
    var connectionWait: Duration { connections.connectionWait }
    /// How long an operation may take in all, its connection wait included.
    var operationTimeout: Duration { connections.operationTimeout }

    /// Connects to `location` (a pool of at most `maximumConnections`), applies the migrations
    /// the database lacks and starts listening for new jobs. Throws ``StoreUnavailable`` when the
    /// database cannot be reached.
    ///
    /// - Parameters:
    ///   - connectionWait: how long any operation waits for a connection (the database is down,
    ///     or every connection is busy) before it throws ``StoreUnavailable``.
    ///   - operationTimeout: how long an operation may take in all (more than the longest
    ///     transaction: indexing a document's passages).
    ///   - jitter: a number in 0...1 for each retry delay; random by default.
    public static func open(
        _ location: PostgresLocation, maximumConnections: Int = 16, connectionWait: Duration = .seconds(5),
        operationTimeout: Duration = .seconds(15), clock: any IngestClock = SystemClock(),
        retry: RetryPolicy = RetryPolicy(), jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
        logger: Logger = Logger(label: "intake.postgres")
    ) async throws -> PostgresStore {
        let store = PostgresStore(
            location, maximumConnections: maximumConnections, connectionWait: connectionWait,
            operationTimeout: max(operationTimeout, connectionWait), clock: clock, retry: retry, jitter: jitter, logger: logger)
        do {
            try await store.withConnection { connection in try await PostgresSchema.migrate(connection, logger: logger) }
        } catch {
            try? await store.close()
            throw error
        }
        store.wakeups.start(client: store.client, logger: logger)
        return store
    }

    private init(
        _ location: PostgresLocation, maximumConnections: Int, connectionWait: Duration, operationTimeout: Duration,
        clock: any IngestClock, retry: RetryPolicy,
        jitter: @escaping @Sendable () -> Double, logger: Logger
    ) {
        var configuration = location.clientConfiguration
        // One more than asked: the connection that listens for new jobs holds one for good.
        configuration.options.maximumConnections = max(maximumConnections, 1) + 1
        configuration.options.connectTimeout = .seconds(5)
        // The server's own bounds, whatever a client does: no statement runs longer than an
        // operation may (a search matching every passage, say), and a transaction whose client went
        // quiet (a frozen node holding the event counter) is ended so that it holds no lock for long.
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", "\(operationTimeout.components.seconds)s"),
            ("idle_in_transaction_session_timeout", "\(max(operationTimeout.components.seconds * 2, 30))s"),
        ]
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        self.client = client
        running = Task { await client.run() }
        self.clock = clock
        self.retry = retry
        self.jitter = jitter
        self.logger = logger
        let connections = PostgresConnections(
            client: client, logger: logger, connectionWait: connectionWait, operationTimeout: operationTimeout)
        self.connections = connections
        // Two batches at a time: one sends its uploads' statements while the other commits.
        uploadBatches = CommitBatcher(maximumBatch: 64, concurrentBatches: 2) { batch in
            await Self.recordBatch(batch, clock: clock, connections: connections)
        }
        wakeups = JobWakeups()
    }

    /// Stops listening and closes the pool's connections, giving them a few seconds (a pool
    /// still trying to reach a server that is down may not stop sooner, and a process that is
    /// shutting down does not wait for it).
    public func close() async throws {
        wakeups.stop()
        running.cancel()
        let running = running
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resume = Mutex<CheckedContinuation<Void, Never>?>(continuation)
            let resumeOnce: @Sendable () -> Void = { resume.withLock { $0.take() }?.resume() }
            Task {
                await running.value
                resumeOnce()
            }
            Task {
                try? await Task.sleep(for: .seconds(5))
                resumeOnce()
            }
        }
    }

    /// Runs `body` in one transaction on a pooled connection: committed when it returns,
    /// rolled back when it throws (see ``PostgresConnections/transaction(_:)``).
    @discardableResult
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await connections.transaction(body)
    }

    /// Runs `body` on a pooled connection, outside a transaction, within the store's bounds
    /// (see ``PostgresConnections/withConnection(_:)``).
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await connections.withConnection(body)
    }

    static func newID() -> String { RandomIdentifier.uuid() }
}

extension PostgresConnection {
    /// The rows of `query`, each as random access by column name.
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in try await checkedQuery(query, logger: logger) { rows.append(row.makeRandomAccess()) }
        return rows
    }

    /// Runs `query` unless the connection is closed already: postgres-nio hands a query for a
    /// closed channel to a write whose failure nobody hears, and it would never be answered
    /// (a race with the server dropping the connection remains, bounded by the operation timeout).
    func checkedQuery(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        guard !isClosed else { throw StoreUnavailable(reason: "the database closed the connection") }
        return try await self.query(query, logger: logger)
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
        for try await _ in try await checkedQuery(query, logger: logger) { count += 1 }
        return count
    }
}

extension PostgresRandomAccessRow {
    /// The value of `column`, decoded as `T` (an optional for a nullable column).
    func get<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self, context: .default)
    }
}
