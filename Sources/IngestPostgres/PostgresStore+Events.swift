import Foundation
public import Ingest
import Logging
import PostgresNIO

extension PostgresStore {
    /// A document's status changed: its row now, its event at the end of the transaction.
    struct StatusChange {
        var documentID: String
        var status: DocumentStatus
    }

    /// Sets the documents' statuses (and errors) and writes their events. Call it last in a
    /// transaction: the event ids are drawn from `event_counter`, whose row stays locked until
    /// the commit, so ids are handed out in commit order.
    static func changeStatuses(
        _ connection: PostgresConnection, _ changes: [StatusChange], errors: [String: String] = [:], at time: Date, logger: Logger
    ) async throws {
        guard !changes.isEmpty else { return }
        let seconds = time.timeIntervalSince1970
        let documents = changes.map(\.documentID)
        let states = changes.map(\.status.rawValue)
        // An empty string stands for no error (NULLIF): an array of optionals is not encoded.
        let messages = changes.map { errors[$0.documentID] ?? "" }
        // One statement, so that the counter's row is locked for as short a time as can be:
        // this statement and the commit.
        try await connection.execute(
            """
            WITH changed AS (
                UPDATE documents SET status = c.state, error = NULLIF(c.error, ''), updated_at = \(seconds)
                FROM unnest(\(documents)::text[], \(states)::text[], \(messages)::text[]) AS c(id, state, error)
                WHERE documents.id = c.id
                RETURNING documents.id
            ), counter AS (
                UPDATE event_counter SET last_id = last_id + \(changes.count) RETURNING last_id
            )
            INSERT INTO status_events (id, document_id, state, time)
            SELECT counter.last_id - \(changes.count) + e.position, e.document_id, e.state, \(seconds)
            FROM counter, unnest(\(documents)::text[], \(states)::text[]) WITH ORDINALITY AS e(document_id, state, position)
            """, logger: logger)
    }

    /// Tells idle workers on every node that a job is runnable (delivered at commit).
    static func notifyJobs(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute("SELECT pg_notify(\(JobWakeups.channel), '')", logger: logger)
    }

    public func newestEventID() async throws -> Int64 {
        try await withConnection { connection in
            try await connection.row("SELECT coalesce(max(id), 0)::bigint AS newest FROM status_events", logger: self.logger)?.get("newest") ?? 0
        }
    }

    public func events(after id: Int64, limit: Int) async throws -> [StatusEvent] {
        try await withConnection { connection in
            try await connection.rows("SELECT * FROM status_events WHERE id > \(id) ORDER BY id LIMIT \(limit)", logger: self.logger).map { row in
                StatusEvent(
                    id: try row.get("id"), documentID: try row.get("document_id"),
                    state: DocumentStatus(rawValue: try row.get("state")) ?? .queued, time: Date(timeIntervalSince1970: try row.get("time")))
            }
        }
    }

    public func waitForWork(atMost timeout: Duration, clock: any Clock<Duration>) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(for: timeout) }
            group.addTask { await self.wakeups.next() }
            await group.next()
            group.cancelAll()
        }
    }
}
