import Foundation
import GRDB
public import Ingest

extension SQLiteStore {
    public func createKey(knowledgeBase: KnowledgeBaseName) async throws -> (record: APIKeyRecord, secret: String) {
        let key = NewAPIKey()
        let now = clock.now
        try await write { db in
            try db.execute(
                sql: "INSERT INTO api_keys (id, knowledge_base, secret_sha256, created_at) VALUES (?, ?, ?, ?)",
                arguments: [key.id, knowledgeBase.value, NewAPIKey.digest(of: key.secret), now.timeIntervalSince1970])
        }
        return (APIKeyRecord(id: key.id, knowledgeBase: knowledgeBase.value, createdAt: now, revokedAt: nil), key.secret)
    }

    public func keys() async throws -> [APIKeyRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY created_at, id").map { row in
                APIKeyRecord(
                    id: row["id"], knowledgeBase: row["knowledge_base"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
                    revokedAt: (row["revoked_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    public func revokeKey(id: String) async throws -> Bool {
        let now = clock.now
        return try await write { db in
            try db.execute(
                sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                arguments: [now.timeIntervalSince1970, id])
            return db.changesCount == 1
        }
    }

    public func requiresKeys() async throws -> Bool {
        try await read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM api_keys)") ?? false }
    }

    public func knowledgeBase(forKey secret: String) async throws -> String? {
        let digest = NewAPIKey.digest(of: secret)
        return try await read { db in
            try String.fetchOne(db, sql: "SELECT knowledge_base FROM api_keys WHERE secret_sha256 = ? AND revoked_at IS NULL", arguments: [digest])
        }
    }
}
