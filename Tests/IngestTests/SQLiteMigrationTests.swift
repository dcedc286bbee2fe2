import Foundation
import GRDB
import Ingest
@testable import IngestSQLite
import Testing

/// A database written by an earlier Intake opens with what it holds intact.
@Suite struct SQLiteMigrationTests {
    @Test func everyCommitIsSyncedToDiskBeforeItReturns() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // GRDB's pool sets its writer to NORMAL (no fsync per commit in WAL mode) after our set-up ran.
        #expect(try SQLiteStore(path: directory.path + "/intake.sqlite").writerSynchronousMode == 2, "FULL")
    }

    @Test func anIdempotencyKeyCompletedBeforeV7StillReplaysItsUpload() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/intake.sqlite"
        // A v6 database with one completed key (its response kept whole, as v6 did) and one in flight.
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteSchema.migrator.migrate(queue, upTo: "v6: webhook cursors")
            try await queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO idempotency_keys (knowledge_base, key, fingerprint, state, status, location, body, created_at)
                        VALUES ('kb', 'done', 'f1', 'done', 201, '/uploads/0b6a1c3e', x'7b7d', ?),
                               ('kb', 'running', NULL, 'in_flight', NULL, NULL, NULL, ?)
                        """, arguments: [Date().timeIntervalSince1970, Date().timeIntervalSince1970])
            }
            try queue.close()
        }
        let store = try SQLiteStore(path: path)
        #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "done", owner: "n") == .completed(fingerprint: "f1", uploadID: "0b6a1c3e"))
        // A claim left in flight by the old process has no owner: this one-node store's start-up releases it.
        #expect(try await store.releaseAbandonedIdempotencyClaims(owner: "n") == 1)
        #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "running", owner: "n") == .acquired)
    }
}
