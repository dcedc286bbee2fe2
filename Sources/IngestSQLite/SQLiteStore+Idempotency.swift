import Foundation
import GRDB
public import Ingest

extension SQLiteStore {
    public func claimIdempotency(knowledgeBase: String, key: String, owner: String) async throws -> IdempotencyClaim {
        let now = clock.now.timeIntervalSince1970
        let lifetime = IdempotencyKeys.lifetime.timeInterval
        return try await write { db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [now - lifetime])
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM idempotency_keys WHERE knowledge_base = ? AND key = ?", arguments: [knowledgeBase, key]) {
                guard row["state"] as String == "done", let uploadID = row["upload_id"] as String? else { return .inFlight }
                return .completed(fingerprint: row["fingerprint"], uploadID: uploadID)
            }
            try db.execute(
                sql: "INSERT INTO idempotency_keys (knowledge_base, key, state, owner, created_at) VALUES (?, ?, 'in_flight', ?, ?)",
                arguments: [knowledgeBase, key, owner, now])
            return .acquired
        }
    }

    /// Marks the key done with the upload it created (inside the transaction that recorded the
    /// upload: ``record(_:completing:blobIsPresent:)``).
    static func completeIdempotency(_ db: Database, _ completion: IdempotencyCompletion, upload: NewUpload, uploadID: String) throws {
        try db.execute(
            sql: """
                UPDATE idempotency_keys SET state = 'done', fingerprint = ?, upload_id = ?
                WHERE knowledge_base = ? AND key = ?
                """, arguments: [FormFingerprint.of(upload), uploadID, completion.knowledgeBase, completion.key])
    }

    public func releaseIdempotency(knowledgeBase: String, key: String) async throws {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM idempotency_keys WHERE knowledge_base = ? AND key = ? AND state = 'in_flight'",
                arguments: [knowledgeBase, key])
        }
    }

    @discardableResult
    public func releaseAbandonedIdempotencyClaims(owner: String) async throws -> Int {
        try await write { db in
            // Claims made before owners were kept (NULL) can only be this one-node store's own.
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE state = 'in_flight' AND (owner = ? OR owner IS NULL)", arguments: [owner])
            return db.changesCount
        }
    }
}
