import Crypto
public import Foundation
import GRDB
public import Ingest

/// An API key as listed: never its secret, which is shown once at creation and stored only as
/// its SHA-256.
public struct APIKeyRecord: Sendable, Hashable {
    public var id: String
    public var knowledgeBase: String
    public var createdAt: Date
    public var revokedAt: Date?
}

extension SQLiteStore {
    /// Creates a key for `knowledgeBase`; returns its record and the secret, the only time the
    /// secret exists outside the client: `intake_<id>_<random>`.
    public func createKey(knowledgeBase: String) async throws -> (record: APIKeyRecord, secret: String) {
        var generator = SystemRandomNumberGenerator()
        let id = String(generator.next() as UInt64, radix: 36)
        let random = (0..<4).map { _ in String(generator.next() as UInt64, radix: 36) }.joined()
        let secret = "intake_\(id)_\(random)"
        let now = Date()
        try await write { db in
            try db.execute(sql: "INSERT INTO api_keys (id, knowledge_base, secret_sha256, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [id, knowledgeBase, Self.digest(secret), now.timeIntervalSince1970])
        }
        return (APIKeyRecord(id: id, knowledgeBase: knowledgeBase, createdAt: now, revokedAt: nil), secret)
    }

    /// Every key, revoked ones included, oldest first.
    public func keys() async throws -> [APIKeyRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY created_at, id").map { row in
                APIKeyRecord(
                    id: row["id"], knowledgeBase: row["knowledge_base"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
                    revokedAt: (row["revoked_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    /// Revokes key `id`; returns whether an active key was revoked.
    public func revokeKey(id: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                           arguments: [Date().timeIntervalSince1970, id])
            return db.changesCount == 1
        }
    }

    /// Whether any key was ever created: from then on, every request needs one.
    public func requiresKeys() async throws -> Bool {
        try await read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM api_keys)") ?? false }
    }

    /// The knowledge base of the active key whose secret is `secret`, or nil.
    public func knowledgeBase(forKey secret: String) async throws -> String? {
        let digest = Self.digest(secret)
        return try await read { db in
            try String.fetchOne(db, sql: "SELECT knowledge_base FROM api_keys WHERE secret_sha256 = ? AND revoked_at IS NULL", arguments: [digest])
        }
    }

    /// The knowledge base of upload `id`, or nil.
    public func knowledgeBase(ofUpload id: String) async throws -> String? {
        try await read { db in try String.fetchOne(db, sql: "SELECT knowledge_base FROM uploads WHERE id = ?", arguments: [id]) }
    }

    /// Keys are long random strings, so one SHA-256 is the right hash: nothing to brute-force.
    private static func digest(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).lowercaseHex
    }
}

extension SQLiteStore {
    /// How many documents are in each state.
    public func statusCounts() async throws -> [DocumentStatus: Int] {
        try await read { db in
            var counts: [DocumentStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS count FROM documents GROUP BY status") {
                if let status = DocumentStatus(rawValue: row["status"]) { counts[status] = row["count"] }
            }
            return counts
        }
    }
}
