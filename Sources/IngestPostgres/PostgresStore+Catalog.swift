import Foundation
public import Ingest
import Logging
import PostgresNIO

extension PostgresStore {
    public func record(
        _ upload: NewUpload, completing idempotency: IdempotencyCompletion?, blobIsPresent: @escaping @Sendable (String) async throws -> Bool
    ) async throws -> UploadReceipt {
        let seconds = clock.now.timeIntervalSince1970
        let time = Date(timeIntervalSince1970: seconds)  // as the row keeps it
        let uploadID = Self.newID()
        let documents = upload.documents.map { document in
            DocumentRecord(
                id: Self.newID(), uploadID: uploadID, fieldName: document.fieldName, filename: document.filename,
                filenameStar: document.filenameStar, declaredType: document.declaredType, detectedType: document.detectedType,
                charset: document.charset, size: document.size, sha256: document.sha256, status: .queued, error: nil,
                createdAt: time, updatedAt: time)
        }
        let receipt = UploadReceipt(id: uploadID, knowledgeBase: upload.knowledgeBase, createdAt: time, fields: upload.fields, documents: documents)
        let rows = UploadRows(receipt)
        let fingerprint = idempotency.map { _ in FormFingerprint.of(upload) }
        let logger = logger
        return try await transaction { connection in
            // Holds off releaseBlobs of these digests until the commit (it takes them exclusively),
            // in one order everywhere.
            try await connection.execute("""
                SELECT pg_advisory_xact_lock_shared(hashtextextended(digest, 0))
                FROM unnest(\(Set(upload.documents.map(\.sha256)).sorted())::text[]) WITH ORDINALITY AS d(digest, position) ORDER BY position
                """, logger: logger)
            for document in upload.documents {
                if try await !blobIsPresent(document.sha256) { throw CatalogError.blobRemoved(sha256: document.sha256) }
            }
            // The upload, its fields, documents and jobs and the idempotency key, in one statement
            // (the row constraints are checked at its end); idle workers are told at the commit.
            try await connection.execute("""
                WITH upload AS (
                    INSERT INTO uploads (id, knowledge_base, created_at) VALUES (\(uploadID), \(upload.knowledgeBase), \(seconds))
                ), fields AS (
                    INSERT INTO upload_fields (upload_id, position, name, value)
                    SELECT \(uploadID), position - 1, name, value FROM unnest(\(rows.fieldNames)::text[], \(rows.fieldValues)::text[])
                        WITH ORDINALITY AS f(name, value, position)
                ), documents AS (
                    INSERT INTO documents (id, upload_id, position, field_name, filename, filename_star, declared_type,
                        detected_type, charset, size, sha256, status, created_at, updated_at)
                    SELECT id, \(uploadID), position - 1, field_name, CASE WHEN has_filename THEN filename END,
                        CASE WHEN has_filename_star THEN filename_star END, CASE WHEN has_declared_type THEN declared_type END,
                        detected_type, CASE WHEN has_charset THEN charset END, size, sha256, 'queued', \(seconds), \(seconds)
                    FROM unnest(\(rows.ids)::text[], \(rows.fieldNamesOfDocuments)::text[], \(rows.filenames)::text[], \(rows.hasFilename)::boolean[],
                        \(rows.filenameStars)::text[], \(rows.hasFilenameStar)::boolean[], \(rows.declaredTypes)::text[], \(rows.hasDeclaredType)::boolean[],
                        \(rows.detectedTypes)::text[], \(rows.charsets)::text[], \(rows.hasCharset)::boolean[], \(rows.sizes)::bigint[],
                        \(rows.digests)::text[])
                        WITH ORDINALITY AS d(id, field_name, filename, has_filename, filename_star, has_filename_star, declared_type,
                            has_declared_type, detected_type, charset, has_charset, size, sha256, position)
                    RETURNING id
                ), jobs AS (
                    INSERT INTO jobs (document_id, state, run_after, enqueued_at) SELECT id, 'queued', \(seconds), \(seconds) FROM documents
                ), idempotency AS (
                    UPDATE idempotency_keys SET state = 'done', fingerprint = \(fingerprint), upload_id = \(uploadID)
                    WHERE \(idempotency != nil) AND knowledge_base = \(idempotency?.knowledgeBase ?? "") AND key = \(idempotency?.key ?? "")
                )
                SELECT pg_notify(\(JobWakeups.channel), '') WHERE \(!documents.isEmpty)
                """, logger: logger)
            // Last: the event counter stays locked from here to the commit.
            try await Self.changeStatuses(connection, documents.map { StatusChange(documentID: $0.id, status: .queued) }, at: time, logger: logger)
            return receipt
        }
    }

    /// An upload's values as the columns of one multi-row insert (`unnest`): arrays of optionals
    /// are not sent, so each nullable column goes with a `has_…` column.
    private struct UploadRows {
        var fieldNames: [String] = [], fieldValues: [String] = []
        var ids: [String] = [], fieldNamesOfDocuments: [String] = [], detectedTypes: [String] = [], digests: [String] = []
        var filenames: [String] = [], hasFilename: [Bool] = []
        var filenameStars: [String] = [], hasFilenameStar: [Bool] = []
        var declaredTypes: [String] = [], hasDeclaredType: [Bool] = []
        var charsets: [String] = [], hasCharset: [Bool] = []
        var sizes: [Int64] = []

        init(_ receipt: UploadReceipt) {
            fieldNames = receipt.fields.map(\.name)
            fieldValues = receipt.fields.map(\.value)
            for document in receipt.documents {
                ids.append(document.id)
                fieldNamesOfDocuments.append(document.fieldName)
                detectedTypes.append(document.detectedType)
                digests.append(document.sha256)
                sizes.append(Int64(document.size))
                filenames.append(document.filename ?? "")
                hasFilename.append(document.filename != nil)
                filenameStars.append(document.filenameStar ?? "")
                hasFilenameStar.append(document.filenameStar != nil)
                declaredTypes.append(document.declaredType ?? "")
                hasDeclaredType.append(document.declaredType != nil)
                charsets.append(document.charset ?? "")
                hasCharset.append(document.charset != nil)
            }
        }
    }

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
        return try await withConnection { connection in
            let rows = try await connection.rows("""
                SELECT documents.* FROM documents JOIN uploads ON uploads.id = documents.upload_id
                WHERE documents.seq > \(after)
                    AND (\(status)::text IS NULL OR documents.status = \(status))
                    AND (\(sha256)::text IS NULL OR documents.sha256 = \(sha256))
                    AND (\(knowledgeBase)::text IS NULL OR uploads.knowledge_base = \(knowledgeBase))
                ORDER BY documents.seq LIMIT \(limit + 1)
                """, logger: self.logger)
            let page = rows.prefix(limit)
            let next = rows.count > limit ? try page.last.map { DocumentQuery.cursor(after: try $0.get("seq")) } : nil
            return DocumentPage(documents: try page.map(Self.document(from:)), nextCursor: next)
        }
    }

    public func knowledgeBase(ofDocument id: String) async throws -> String? {
        try await withConnection { connection in
            try await connection.row("""
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
}
