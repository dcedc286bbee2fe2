import Foundation
public import Ingest
import PostgresNIO

extension PostgresStore {
    public func createKey(knowledgeBase: KnowledgeBaseName) async throws -> (record: APIKeyRecord, secret: String) {
        let key = NewAPIKey()
        let now = clock.now
        try await transaction { connection in
            try await connection.execute(
                """
                INSERT INTO api_keys (id, knowledge_base, secret_sha256, created_at)
                VALUES (\(key.id), \(knowledgeBase.value), \(NewAPIKey.digest(of: key.secret)), \(now.timeIntervalSince1970))
                """, logger: self.logger)
        }
        return (APIKeyRecord(id: key.id, knowledgeBase: knowledgeBase.value, createdAt: now, revokedAt: nil), key.secret)
    }

    public func keys() async throws -> [APIKeyRecord] {
        try await withConnection { connection in
            try await connection.rows("SELECT * FROM api_keys ORDER BY created_at, id", logger: self.logger).map { row in
                APIKeyRecord(
                    id: try row.get("id"), knowledgeBase: try row.get("knowledge_base"),
                    createdAt: Date(timeIntervalSince1970: try row.get("created_at")),
                    revokedAt: (try row.get("revoked_at", as: Double?.self)).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    public func revokeKey(id: String) async throws -> Bool {
        let now = clock.now.timeIntervalSince1970
        return try await transaction { connection in
            try await connection.execute(
                "UPDATE api_keys SET revoked_at = \(now) WHERE id = \(id) AND revoked_at IS NULL RETURNING 1", logger: self.logger) == 1
        }
    }

    public func requiresKeys() async throws -> Bool {
        try await withConnection { connection in
            try await connection.row("SELECT EXISTS (SELECT 1 FROM api_keys) AS any", logger: self.logger)?.get("any") ?? false
        }
    }

    public func knowledgeBase(forKey secret: String) async throws -> String? {
        let digest = NewAPIKey.digest(of: secret)
        return try await withConnection { connection in
            try await connection.row(
                "SELECT knowledge_base FROM api_keys WHERE secret_sha256 = \(digest) AND revoked_at IS NULL", logger: self.logger)?.get("knowledge_base")
        }
    }

    // MARK: - Idempotency

    public func claimIdempotency(knowledgeBase: String, key: String, owner: String) async throws -> IdempotencyClaim {
        let now = clock.now.timeIntervalSince1970
        let lifetime = IdempotencyKeys.lifetime.timeInterval
        return try await transaction { connection in
            try await connection.execute("DELETE FROM idempotency_keys WHERE created_at < \(now - lifetime)", logger: self.logger)
            // A claim made at the same moment on another node waits here for that one's commit.
            let acquired = try await connection.execute(
                """
                INSERT INTO idempotency_keys (knowledge_base, key, state, owner, created_at)
                VALUES (\(knowledgeBase), \(key), 'in_flight', \(owner), \(now))
                ON CONFLICT (knowledge_base, key) DO NOTHING RETURNING 1
                """, logger: self.logger)
            if acquired == 1 { return .acquired }
            guard
                let row = try await connection.row(
                    "SELECT * FROM idempotency_keys WHERE knowledge_base = \(knowledgeBase) AND key = \(key)", logger: self.logger)
            else { return .inFlight }
            guard try row.get("state", as: String.self) == "done", let uploadID = try row.get("upload_id", as: String?.self) else { return .inFlight }
            return .completed(fingerprint: try row.get("fingerprint", as: String?.self) ?? "", uploadID: uploadID)
        }
    }

    public func releaseIdempotency(knowledgeBase: String, key: String) async throws {
        try await transaction { connection in
            try await connection.execute(
                """
                DELETE FROM idempotency_keys WHERE knowledge_base = \(knowledgeBase) AND key = \(key) AND state = 'in_flight'
                """, logger: self.logger)
        }
    }

    @discardableResult
    public func releaseAbandonedIdempotencyClaims(owner: String) async throws -> Int {
        try await transaction { connection in
            try await connection.execute(
                "DELETE FROM idempotency_keys WHERE state = 'in_flight' AND owner = \(owner) RETURNING 1", logger: self.logger)
        }
    }

    // MARK: - Webhook cursors

    public func webhookCursor(url: String) async throws -> Int64 {
        try await transaction { connection in
            try await connection.execute(
                """
                INSERT INTO webhook_cursors (url, last_event_id) SELECT \(url), coalesce(max(id), 0) FROM status_events
                ON CONFLICT (url) DO NOTHING
                """, logger: self.logger)
            return try await connection.row("SELECT last_event_id FROM webhook_cursors WHERE url = \(url)", logger: self.logger)?.get("last_event_id") ?? 0
        }
    }

    public func leaseWebhook(url: String, owner: String, lease: Duration) async throws -> Int64? {
        let now = clock.now.timeIntervalSince1970
        let until = now + lease.timeInterval
        return try await transaction { connection in
            try await connection.execute(
                """
                INSERT INTO webhook_cursors (url, last_event_id) SELECT \(url), coalesce(max(id), 0) FROM status_events
                ON CONFLICT (url) DO NOTHING
                """, logger: self.logger)
            return try await connection.row(
                """
                UPDATE webhook_cursors SET owner = \(owner), lease_until = \(until)
                WHERE url = \(url) AND (owner IS NULL OR owner = \(owner) OR lease_until < \(now))
                RETURNING last_event_id
                """, logger: self.logger)?.get("last_event_id")
        }
    }

    public func advanceWebhookCursor(url: String, to eventID: Int64) async throws {
        try await transaction { connection in
            try await connection.execute(
                "UPDATE webhook_cursors SET last_event_id = greatest(last_event_id, \(eventID)) WHERE url = \(url)", logger: self.logger)
        }
    }
}
