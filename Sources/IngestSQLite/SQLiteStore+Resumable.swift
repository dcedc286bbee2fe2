public import Foundation
import GRDB
public import Ingest

extension SQLiteStore {
    public func createResumableUpload(_ upload: ResumableUpload, limits: ResumableUploadLimits) async throws {
        let now = clock.now.timeIntervalSince1970
        try await write { db in
            let open = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) AS total, COALESCE(SUM(knowledge_base = ?), 0) AS mine FROM resumable_uploads WHERE expires_at > ?
                    """, arguments: [upload.knowledgeBase, now])
            let (total, mine): (Int, Int) = (open?["total"] ?? 0, open?["mine"] ?? 0)
            if mine >= limits.perKnowledgeBase { throw ResumableUploadLimitReached(limit: limits.perKnowledgeBase, isPerKnowledgeBase: true) }
            if total >= limits.total { throw ResumableUploadLimitReached(limit: limits.total, isPerKnowledgeBase: false) }
            try db.execute(
                sql: """
                    INSERT INTO resumable_uploads (id, knowledge_base, length, offset_bytes, filename, declared_type, fields, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    upload.id, upload.knowledgeBase, upload.length, upload.offset, upload.filename, upload.declaredType,
                    ResumableUploadFields.encoded(upload.fields), upload.createdAt.timeIntervalSince1970,
                    upload.expiresAt.timeIntervalSince1970,
                ])
        }
    }

    public func resumableUpload(id: String) async throws -> ResumableUpload? {
        try await read { db in try Self.resumableUpload(db, id: id) }
    }

    public func beginResumableAppend(id: String, at offset: Int64, node: String, leaseUntil: Date) async throws -> ResumableUpload {
        let now = clock.now.timeIntervalSince1970
        return try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM resumable_uploads WHERE id = ?", arguments: [id]) else {
                throw ResumableUploadNotFound(id: id)
            }
            let current: Int64 = row["offset_bytes"]
            // Another append holds it (on any node, this one included) until its lease runs out.
            if row["append_node"] as String? != nil, let until = row["append_until"] as Double?, until > now {
                throw ResumableUploadConflict(.appendInProgress, offset: current)
            }
            guard current == offset else { throw ResumableUploadConflict(.offsetMismatch, offset: current) }
            try db.execute(
                sql: "UPDATE resumable_uploads SET append_node = ?, append_until = ? WHERE id = ?",
                arguments: [node, leaseUntil.timeIntervalSince1970, id])
            return try Self.resumableUpload(from: row)
        }
    }

    public func checkpointResumableAppend(id: String, node: String, offset: Int64?, leaseUntil: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE resumable_uploads SET append_until = ?, offset_bytes = MAX(offset_bytes, COALESCE(?, offset_bytes))
                    WHERE id = ? AND append_node = ?
                    """,
                arguments: [leaseUntil.timeIntervalSince1970, offset, id, node])
            guard db.changesCount == 1 else {
                let offset = try Int64.fetchOne(db, sql: "SELECT offset_bytes FROM resumable_uploads WHERE id = ?", arguments: [id])
                guard let offset else { throw ResumableUploadNotFound(id: id) }
                throw ResumableUploadConflict(.appendInProgress, offset: offset)
            }
        }
    }

    @discardableResult
    public func finishResumableAppend(id: String, node: String, offset: Int64, length: Int64?, expiresAt: Date) async throws -> ResumableUpload {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM resumable_uploads WHERE id = ?", arguments: [id]) else {
                throw ResumableUploadNotFound(id: id)
            }
            // An append whose claim ran out and was taken by another does not write over it.
            guard row["append_node"] as String? == node else {
                throw ResumableUploadConflict(.appendInProgress, offset: row["offset_bytes"])
            }
            try db.execute(
                sql: """
                    UPDATE resumable_uploads SET offset_bytes = ?, length = COALESCE(length, ?), expires_at = ?, append_node = NULL, append_until = NULL
                    WHERE id = ?
                    """, arguments: [offset, length, expiresAt.timeIntervalSince1970, id])
            return try Self.resumableUpload(db, id: id)!
        }
    }

    @discardableResult
    public func removeResumableUpload(id: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM resumable_uploads WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    @discardableResult
    public func releaseResumableAppends(node: String) async throws -> Int {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE resumable_uploads SET append_node = NULL, append_until = NULL
                    WHERE append_node = ? OR substr(append_node, 1, length(?) + 1) = ? || ' '
                    """, arguments: [node, node, node])
            return db.changesCount
        }
    }

    public func expiredResumableUploads(before time: Date, limit: Int) async throws -> [ResumableUpload] {
        let (before, now) = (time.timeIntervalSince1970, clock.now.timeIntervalSince1970)
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM resumable_uploads WHERE expires_at < ? AND (append_until IS NULL OR append_until <= ?)
                    ORDER BY expires_at LIMIT ?
                    """, arguments: [before, now, max(limit, 0)]
            ).map(Self.resumableUpload(from:))
        }
    }

    private static func resumableUpload(_ db: Database, id: String) throws -> ResumableUpload? {
        try Row.fetchOne(db, sql: "SELECT * FROM resumable_uploads WHERE id = ?", arguments: [id]).map(resumableUpload(from:))
    }

    private static func resumableUpload(from row: Row) throws -> ResumableUpload {
        ResumableUpload(
            id: row["id"], knowledgeBase: row["knowledge_base"], length: row["length"], offset: row["offset_bytes"],
            filename: row["filename"], declaredType: row["declared_type"], fields: try ResumableUploadFields.decoded(row["fields"]),
            createdAt: Date(timeIntervalSince1970: row["created_at"]), expiresAt: Date(timeIntervalSince1970: row["expires_at"]))
    }
}
