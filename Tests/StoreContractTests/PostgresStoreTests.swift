import Foundation
import Ingest
@testable import IngestPostgres
import IntakeTesting
import Logging
import PostgresNIO
import Testing

/// What only the PostgreSQL store has to get right: many nodes on one database.
@Suite(.enabled(if: ContractBackend.postgresURL != nil, "needs INTAKE_TEST_DATABASE_URL (.ci/run starts a server)"))
struct PostgresStoreTests {
    /// PostgreSQL commits transactions in another order than they drew ids from a sequence: a
    /// reader resuming after id 7 would never see id 6 committed after it. Event ids are drawn
    /// last, from one row whose lock is held to the commit, so they are handed out in commit order.
    @Test func eventIdsAreHandedOutInCommitOrderSoAResumingReaderMissesNone() async throws {
        try await ContractBackend.postgres.withStore { (fixture) async throws in
            let store = try #require(fixture.store as? PostgresStore)
            let receipt = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("first"), document("second")]))
            let (first, second) = (receipt.documents[0].id, receipt.documents[1].id)
            let seen = try await store.newestEventID()
            let logger = Logger(label: "test")
            // Transaction A starts, changes a document and draws its event id, and stays open.
            let aDrewItsId = AsyncStream.makeStream(of: Void.self)
            let commitA = AsyncStream.makeStream(of: Void.self)
            let a = Task {
                try await store.transaction { connection in
                    try await PostgresStore.changeStatuses(connection, [.init(documentID: first, status: .failed)], at: Date(), logger: logger)
                    aDrewItsId.continuation.yield()
                    for await _ in commitA.stream { break }
                }
            }
            for await _ in aDrewItsId.stream { break }
            // Transaction B starts after A and would commit first: it waits for A at the counter.
            let b = Task { try await store.enqueue(documentID: second) }
            try await waitUntilABackendWaitsForALock(store)
            // Nothing of either is visible yet: a reader now sees no new event, and skips none later.
            #expect(try await store.events(after: seen, limit: 10).isEmpty)
            commitA.continuation.yield()
            try await a.value
            #expect(try await b.value)
            let events = try await store.events(after: seen, limit: 10)
            #expect(events.map(\.documentID) == [first, second])
            #expect(events[0].id < events[1].id)
        }
    }

    @Test func nodesStartingAtOnceApplyEachMigrationOnce() async throws {
        let url = try await PostgresDatabases.create()
        defer { Task { try? await PostgresDatabases.drop(url) } }
        let location = try PostgresLocation(url: url)
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresStore.open(location, maximumConnections: 2) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 4)
        let versions = try await PostgresDatabases.withConnections(location) { client in
            try await client.query("SELECT count(*) AS applied, count(DISTINCT version) AS distinct_versions FROM intake_schema_migrations")
                .collect().first.map { (try $0.makeRandomAccess()["applied"].decode(Int.self), try $0.makeRandomAccess()["distinct_versions"].decode(Int.self)) }
        }
        #expect(versions?.0 == PostgresSchema.migrations.count)
        #expect(versions?.1 == PostgresSchema.migrations.count)
        for store in stores { try await store.close() }
    }

    @Test func aDatabaseThatCannotBeReachedIsUnavailableNotAnError() async throws {
        var location = try PostgresLocation(url: try #require(ContractBackend.postgresURL))
        location.port = try LoopbackPort.unused()
        await #expect(throws: StoreUnavailable.self) { _ = try await PostgresStore.open(location) }
    }

    @Test func connectionsTheServerDropsAreUnavailableThenTheStoreRecoversByItself() async throws {
        try await ContractBackend.postgres.withStore { (fixture) async throws in
            let store = fixture.store
            let receipt = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("a")]))
            let database = try PostgresLocation(url: fixture.location).database
            _ = try await PostgresDatabases.withAdmin { client in
                try await client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(database)")
            }
            var answered = false
            for _ in 0..<20 where !answered {
                do {
                    answered = try await store.upload(id: receipt.id) == receipt
                } catch {
                    #expect(error is StoreUnavailable, "a dropped connection is \(error)")
                }
            }
            #expect(answered)
        }
    }

    @Test func theServerBoundsEveryStatementAndEveryIdleTransaction() async throws {
        let url = try await PostgresDatabases.create()
        defer { Task { try? await PostgresDatabases.drop(url) } }
        let store = try await PostgresStore.open(PostgresLocation(url: url), operationTimeout: .seconds(20))
        let settings = try await store.withConnection { connection in
            (
                try await connection.row("SHOW statement_timeout", logger: store.logger)?.get("statement_timeout", as: String.self),
                try await connection.row("SHOW idle_in_transaction_session_timeout", logger: store.logger)?
                    .get("idle_in_transaction_session_timeout", as: String.self)
            )
        }
        #expect(settings.0 == "20s")
        #expect(settings.1 == "40s")
        // A statement past it is stopped by the server and answered as the store being unavailable.
        await #expect(throws: StoreUnavailable.self) {
            _ = try await store.withConnection { connection in
                try await connection.execute("SET statement_timeout = '10ms'", logger: store.logger)
                return try await connection.execute("SELECT pg_sleep(5)", logger: store.logger)
            }
        }
        try await store.close()
    }

    /// A statement the server stopped leaves its connection open, inside a failed transaction:
    /// the store rolls that back before the connection serves anyone else.
    @Test func aTransactionWhoseStatementTimedOutIsRolledBackBeforeItsConnectionIsReused() async throws {
        let url = try await PostgresDatabases.create()
        defer { Task { try? await PostgresDatabases.drop(url) } }
        let store = try await PostgresStore.open(PostgresLocation(url: url), maximumConnections: 1)
        await #expect(throws: StoreUnavailable.self) {
            try await store.transaction { connection in
                try await connection.execute("SET LOCAL statement_timeout = '10ms'", logger: store.logger)
                try await connection.execute("SELECT pg_sleep(5)", logger: store.logger)
            }
        }
        // The only connection again: a transaction left open would fail this upload ("current
        // transaction is aborted") or hold its rows uncommitted.
        let receipt = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("after")]))
        #expect(try await store.upload(id: receipt.id) == receipt)
        try await store.close()
    }

    @Test func anIdleWorkerWakesWhenAnotherNodeQueuesAJob() async throws {
        try await ContractBackend.postgres.withStore { (fixture) async throws in
            let store = try #require(fixture.store as? PostgresStore)
            let otherNode = try await fixture.reopen()
            while !store.wakeups.status.listening { try await Task.sleep(for: .milliseconds(10)) }
            // The worker's clock never moves: only the notification can end its wait.
            let clock = TestClock()
            let worker = Task { await store.waitForWork(atMost: .seconds(3600), clock: clock) }
            while store.wakeups.status.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
            _ = try await otherNode.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("a")]))
            let woke = try await firstOf(worker, orFailAfter: .seconds(60))
            #expect(woke, "the idle worker was not woken by the other node's job")
            try await otherNode.close()
        }
    }
}

/// Waits until some backend of the store's server waits for a lock (bounded: it fails after a
/// minute rather than hang).
private func waitUntilABackendWaitsForALock(_ store: PostgresStore) async throws {
    for _ in 0..<6000 {
        let waiting = try await store.withConnection { connection in
            try await connection.row("SELECT count(*) AS waiting FROM pg_stat_activity WHERE wait_event_type = 'Lock'", logger: store.logger)?
                .get("waiting", as: Int.self) ?? 0
        }
        if waiting > 0 { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("no transaction waited for the event counter")
}

/// Whether `task` finished before `limit` of real time (a bound on a test that would otherwise hang).
private func firstOf(_ task: Task<Void, Never>, orFailAfter limit: Duration) async throws -> Bool {
    await withTaskGroup(of: Bool.self) { group in
        group.addTask {
            await task.value
            return true
        }
        group.addTask {
            try? await Task.sleep(for: limit)
            return false
        }
        let first = await group.next() ?? false
        group.cancelAll()
        task.cancel()
        return first
    }
}
