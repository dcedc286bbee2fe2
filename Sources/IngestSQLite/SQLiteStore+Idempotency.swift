public import Foundation
import GRDB
import Ingest

/// What the store knows of an `Idempotency-Key` (IETF httpapi draft semantics).
public enum IdempotencyClaim: Sendable, Hashable {
    /// The key is new: the caller now owns it and must complete it (``SQLiteStore/record(_:completing:)``)
    /// or release it (``SQLiteStore/releaseIdempotency(knowledgeBase:key:)``).
    case acquired
    /// A request with this key is still being processed.
    case inFlight
    /// A request with this key completed: its fingerprint and response, to replay or refuse.
    case completed(fingerprint: String, status: Int, location: String?, body: Data)
}

extension SQLiteStore {
    /// How long a key is remembered.
    public static let idempotencyKeyLifetime: TimeInterval = 24 * 3600

    /// Claims `key` for a new request, or says what an earlier one left; the request completes it
    /// by passing an ``IdempotencyCompletion`` to ``record(_:completing:)``. Keys older than a day are
    /// forgotten first.
    public func claimIdempotency(knowledgeBase: String, key: String) async throws -> IdempotencyClaim {
        let now = Date().timeIntervalSince1970
        return try await write { db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [now - Self.idempotencyKeyLifetime])
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM idempotency_keys WHERE knowledge_base = ? AND key = ?", arguments: [knowledgeBase, key]) {
                guard row["state"] as String == "done" else { return .inFlight }
                return .completed(fingerprint: row["fingerprint"], status: row["status"], location: row["location"], body: row["body"])
            }
            try db.execute(sql: "INSERT INTO idempotency_keys (knowledge_base, key, state, created_at) VALUES (?, ?, 'in_flight', ?)",
                           arguments: [knowledgeBase, key, now])
            return .acquired
        }
    }

    /// Records the response of the request that held the key, for replays (inside the
    /// transaction that recorded the upload: ``record(_:completing:)``).
    static func completeIdempotency(_ db: Database, _ completion: IdempotencyCompletion, upload: NewUpload, location: String?, body: Data) throws {
        try db.execute(sql: """
            UPDATE idempotency_keys SET state = 'done', fingerprint = ?, status = ?, location = ?, body = ?
            WHERE knowledge_base = ? AND key = ?
            """, arguments: [completion.fingerprint(upload), completion.status, location, body, completion.knowledgeBase, completion.key])
    }

    /// Forgets `key` after its request failed, so that a retry can run.
    public func releaseIdempotency(knowledgeBase: String, key: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE knowledge_base = ? AND key = ? AND state = 'in_flight'",
                           arguments: [knowledgeBase, key])
        }
    }

    /// Forgets every key still marked in flight: at start-up no request can be, so these were
    /// left by a process that was killed mid-request, and a client retrying them would otherwise
    /// get 409 until they expire. Returns how many.
    @discardableResult
    public func releaseAbandonedIdempotencyClaims() async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE state = 'in_flight'")
            return db.changesCount
        }
    }
}
