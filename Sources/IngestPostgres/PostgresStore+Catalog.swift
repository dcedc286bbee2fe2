import Foundation
public import Ingest
import Logging
import PostgresNIO

extension PostgresStore {
    public func upload(id: String) async throws -> UploadReceipt? {
        try await transaction { connection in try await Self.upload(connection, id: id, logger: self.logger) }
    }

    static func upload(_ connection: PostgresConnection, id: String, logger: Logger) async throws -> UploadReceipt? {
        guard let row = try await connection.row("SELECT * FROM uploads WHERE id = \(id)", logger: logger) else { return nil }
        let fields = try await connection.rows("SELECT name, value FROM upload_fields WHERE upload_id = \(id) ORDER BY position", logger: logger)
            .map { UploadField(name: try $0.get("name"), value: try $0.get("value")) }
        let documents = try await connection.rows("SELECT * FROM documents WHERE upload_id = \(id) ORDER BY position", logger: logger)
            .map(Self.document(from:))
        return UploadReceipt(
            id: try row.get("id"), knowledgeBase: try row.get("knowledge_base"),
            createdAt: Date(timeIntervalSince1970: try row.get("created_at")), fields: fields, documents: documents)
    }

    public func document(id: String) async throws -> DocumentRecord? {
        try await withConnection { connection in
            try await connection.row("SELECT * FROM documents WHERE id = \(id)", logger: self.logger).map(Self.document(from:))
        }
    }

    public func documents(_ query: DocumentQuery) async throws -> DocumentPage {
        let after = try query.positionAfter()
        let limit = query.pageSize
        let status = query.status?.rawValue
        let sha256 = query.sha256
        let knowledgeBase = query.knowledgeBase
        let newestFirst = query.newestFirst
        let (names, values, type, uploadedAfter, uploadedBefore) = Self.parameters(query.filter)
        return try await withConnection { connection in
            // Newest first or oldest first: the direction is the one part of the query not bound as a value.
            let rows = try await connection.rows(
                """
                SELECT documents.* FROM documents JOIN uploads ON uploads.id = documents.upload_id
                WHERE documents.seq \(unescaped: newestFirst ? "<" : ">") \(after)
                    AND (\(status)::text IS NULL OR documents.status = \(status))
                    AND (\(sha256)::text IS NULL OR documents.sha256 = \(sha256))
                    AND (\(knowledgeBase)::text IS NULL OR uploads.knowledge_base = \(knowledgeBase))
                    AND intake_filter_keeps(
                        uploads.id, documents.detected_type, uploads.created_at, \(names)::text[], \(values)::text[], \(type)::text,
                        \(uploadedAfter)::double precision, \(uploadedBefore)::double precision)
                ORDER BY documents.seq \(unescaped: newestFirst ? "DESC" : "ASC") LIMIT \(limit + 1)
                """, logger: self.logger)
            let page = rows.prefix(limit)
            let next = rows.count > limit ? try page.last.map { DocumentQuery.cursor(after: try $0.get("seq")) } : nil
            return DocumentPage(documents: try page.map(Self.document(from:)), nextCursor: next)
        }
    }

    public func knowledgeBase(ofDocument id: String) async throws -> String? {
        try await withConnection { connection in
            try await connection.row(
                """
                SELECT uploads.knowledge_base FROM documents JOIN uploads ON uploads.id = documents.upload_id WHERE documents.id = \(id)
                """, logger: self.logger)?.get("knowledge_base")
        }
    }

    public func deleteDocument(id: String) async throws -> String? {
        try await transaction { connection in
            try await connection.row("DELETE FROM documents WHERE id = \(id) RETURNING sha256", logger: self.logger)?.get("sha256")
        }
    }

    public func releaseBlobs(_ digests: [String], remove: @escaping @Sendable (String) async throws -> Void) async throws -> [String] {
        try await transaction { connection in
            var removed: [String] = []
            for digest in Set(digests).sorted() {
                // Waits for uploads being recorded with this digest, and holds off new ones.
                try await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(\(digest), 0))", logger: self.logger)
                let referenced = try await connection.row(
                    "SELECT EXISTS (SELECT 1 FROM documents WHERE sha256 = \(digest)) AS referenced", logger: self.logger)?.get("referenced", as: Bool.self)
                if referenced == false {
                    try await remove(digest)
                    removed.append(digest)
                }
            }
            return removed
        }
    }

    public func referencedDigests() async throws -> Set<String> {
        try await withConnection { connection in
            Set(try await connection.rows("SELECT DISTINCT sha256 FROM documents", logger: self.logger).map { try $0.get("sha256", as: String.self) })
        }
    }

    public func statusCounts() async throws -> [DocumentStatus: Int] {
        try await withConnection { connection in
            var counts: [DocumentStatus: Int] = [:]
            for row in try await connection.rows("SELECT status, count(*) AS count FROM documents GROUP BY status", logger: self.logger) {
                if let status = DocumentStatus(rawValue: try row.get("status")) { counts[status] = try row.get("count", as: Int.self) }
            }
            return counts
        }
    }

    static func document(from row: PostgresRandomAccessRow) throws -> DocumentRecord {
        DocumentRecord(
            id: try row.get("id"), uploadID: try row.get("upload_id"), fieldName: try row.get("field_name"), filename: try row.get("filename"),
            filenameStar: try row.get("filename_star"), declaredType: try row.get("declared_type"), detectedType: try row.get("detected_type"),
            charset: try row.get("charset"), size: try row.get("size"), sha256: try row.get("sha256"),
            status: DocumentStatus(rawValue: try row.get("status")) ?? .queued, error: try row.get("error"), note: try row.get("note"),
            createdAt: Date(timeIntervalSince1970: try row.get("created_at")), updatedAt: Date(timeIntervalSince1970: try row.get("updated_at")))
    }

    /// `filter` as query parameters: the fields' names and values (parallel arrays; every pair
    /// must be among the upload's fields), the detected type, and the upload time bounds.
    static func parameters(_ filter: DocumentFilter) -> (names: [String], values: [String], type: String?, after: Double?, before: Double?) {
        let fields = filter.fields.prefix(DocumentFilter.maximumFields)
        return (
            fields.map(\.name), fields.map(\.value), filter.detectedType, filter.uploadedAfter?.timeIntervalSince1970,
            filter.uploadedBefore?.timeIntervalSince1970
        )
    }
}
