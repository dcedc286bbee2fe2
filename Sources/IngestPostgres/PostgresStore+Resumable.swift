public import Foundation
public import Ingest
import Logging
import PostgresNIO

extension PostgresStore {
    public func createResumableUpload(_ upload: ResumableUpload, limits: ResumableUploadLimits) async throws {
        let fields = ResumableUploadFields.encoded(upload.fields)
        let now = clock.now.timeIntervalSince1970
        let logger = logger
        _ = try await transaction { connection in
            // Creations take turns (on every node), so that the count holds until the insert.
            try await connection.execute("SELECT pg_advisory_xact_lock(\(Self.resumableCreationLock))", logger: logger)
            let open = try await connection.row(
                """
                SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE knowledge_base = \(upload.knowledgeBase)) AS mine
                FROM resumable_uploads WHERE expires_at > \(now)
                """, logger: logger)
            let (total, mine) = (try open?.get("total", as: Int.self) ?? 0, try open?.get("mine", as: Int.self) ?? 0)
            if mine >= limits.perKnowledgeBase { throw ResumableUploadLimitReached(limit: limits.perKnowledgeBase, isPerKnowledgeBase: true) }
            if total >= limits.total { throw ResumableUploadLimitReached(limit: limits.total, isPerKnowledgeBase: false) }
            try await connection.execute(
                """
                INSERT INTO resumable_uploads (id, knowledge_base, length, offset_bytes, filename, declared_type, fields, created_at, expires_at)
                VALUES (\(upload.id), \(upload.knowledgeBase), \(upload.length), \(upload.offset), \(upload.filename), \(upload.declaredType),
                    \(fields), \(upload.createdAt.timeIntervalSince1970), \(upload.expiresAt.timeIntervalSince1970))
                """, logger: logger)
        }
    }

    /// The advisory lock key resumable-upload creations take turns under ("resumabl" in ASCII).
    static let resumableCreationLock: Int64 = 0x7265_7375_6d61_626c

    public func resumableUpload(id: String) async throws -> ResumableUpload? {
        try await withConnection { connection in
            try await connection.row("SELECT * FROM resumable_uploads WHERE id = \(id)", logger: self.logger).map(Self.resumableUpload(from:))
        }
    }

    public func beginResumableAppend(id: String, at offset: Int64, node: String, leaseUntil: Date) async throws -> ResumableUpload {
        let now = clock.now.timeIntervalSince1970
        let until = leaseUntil.timeIntervalSince1970
        let logger = logger
        return try await transaction { connection in
            guard let row = try await connection.row("SELECT * FROM resumable_uploads WHERE id = \(id) FOR UPDATE", logger: logger) else {
                throw ResumableUploadNotFound(id: id)
            }
            let upload = try Self.resumableUpload(from: row)
            // Another append holds it (on any node, this one included) until its lease runs out.
            if try row.get("append_node", as: String?.self) != nil, let held = try row.get("append_until", as: Double?.self), held > now {
                throw ResumableUploadConflict(.appendInProgress, offset: upload.offset)
            }
            guard upload.offset == offset else { throw ResumableUploadConflict(.offsetMismatch, offset: upload.offset) }
            try await connection.execute(
                "UPDATE resumable_uploads SET append_node = \(node), append_until = \(until) WHERE id = \(id)", logger: logger)
            return upload
        }
    }

    public func checkpointResumableAppend(id: String, node: String, offset: Int64?, leaseUntil: Date) async throws {
        let until = leaseUntil.timeIntervalSince1970
        let logger = logger
        try await transaction { connection in
            let renewed = try await connection.execute(
                """
                UPDATE resumable_uploads SET append_until = \(until), offset_bytes = GREATEST(offset_bytes, COALESCE(\(offset)::bigint, offset_bytes))
                WHERE id = \(id) AND append_node = \(node) RETURNING 1
                """, logger: logger)
            guard renewed == 1 else {
                guard let row = try await connection.row("SELECT offset_bytes FROM resumable_uploads WHERE id = \(id)", logger: logger) else {
                    throw ResumableUploadNotFound(id: id)
                }
                throw ResumableUploadConflict(.appendInProgress, offset: try row.get("offset_bytes"))
            }
        }
    }

    @discardableResult
    public func finishResumableAppend(id: String, node: String, offset: Int64, length: Int64?, expiresAt: Date) async throws -> ResumableUpload {
        let expires = expiresAt.timeIntervalSince1970
        let logger = logger
        return try await transaction { connection in
            guard let row = try await connection.row("SELECT * FROM resumable_uploads WHERE id = \(id) FOR UPDATE", logger: logger) else {
                throw ResumableUploadNotFound(id: id)
            }
            // An append whose claim ran out and was taken by another does not write over it.
            guard try row.get("append_node", as: String?.self) == node else {
                throw ResumableUploadConflict(.appendInProgress, offset: try row.get("offset_bytes"))
            }
            let updated = try await connection.row(
                """
                UPDATE resumable_uploads SET offset_bytes = \(offset), length = COALESCE(length, \(length)), expires_at = \(expires),
                    append_node = NULL, append_until = NULL
                WHERE id = \(id) RETURNING *
                """, logger: logger)
            return try Self.resumableUpload(from: updated!)
        }
    }

    @discardableResult
    public func removeResumableUpload(id: String) async throws -> Bool {
        try await withConnection { connection in
            try await connection.execute("DELETE FROM resumable_uploads WHERE id = \(id) RETURNING 1", logger: self.logger) > 0
        }
    }

    @discardableResult
    public func releaseResumableAppends(node: String) async throws -> Int {
        try await withConnection { connection in
            try await connection.execute(
                """
                UPDATE resumable_uploads SET append_node = NULL, append_until = NULL
                WHERE append_node = \(node) OR substr(append_node, 1, length(\(node)) + 1) = \(node) || ' ' RETURNING 1
                """, logger: self.logger)
        }
    }

    public func expiredResumableUploads(before time: Date, limit: Int) async throws -> [ResumableUpload] {
        let (before, now) = (time.timeIntervalSince1970, clock.now.timeIntervalSince1970)
        return try await withConnection { connection in
            try await connection.rows(
                """
                SELECT * FROM resumable_uploads WHERE expires_at < \(before) AND (append_until IS NULL OR append_until <= \(now))
                ORDER BY expires_at LIMIT \(max(limit, 0))
                """, logger: self.logger
            ).map(Self.resumableUpload(from:))
        }
    }

    static func resumableUpload(from row: PostgresRandomAccessRow) throws -> ResumableUpload {
        ResumableUpload(
            id: try row.get("id"), knowledgeBase: try row.get("knowledge_base"), length: try row.get("length"),
            offset: try row.get("offset_bytes"), filename: try row.get("filename"), declaredType: try row.get("declared_type"),
            fields: try ResumableUploadFields.decoded(try row.get("fields")),
            createdAt: Date(timeIntervalSince1970: try row.get("created_at")), expiresAt: Date(timeIntervalSince1970: try row.get("expires_at")))
    }
}
