import Foundation
public import Ingest
import Logging
import PostgresNIO

extension PostgresStore {
    /// One upload waiting for the next shared transaction.
    struct PendingUpload: Sendable {
        let upload: NewUpload
        let idempotency: IdempotencyCompletion?
        /// The idempotency key's fingerprint of the form, worked out before the batch.
        let fingerprint: String?
        let blobIsPresent: @Sendable (String) async throws -> Bool
    }

    public func record(
        _ upload: NewUpload, completing idempotency: IdempotencyCompletion?, blobIsPresent: @escaping @Sendable (String) async throws -> Bool
    ) async throws -> UploadReceipt {
        let fingerprint = idempotency.map { _ in FormFingerprint.of(upload) }
        return try await uploadBatches.submit(
            PendingUpload(upload: upload, idempotency: idempotency, fingerprint: fingerprint, blobIsPresent: blobIsPresent))
    }

    /// Records the uploads that finished together in one transaction, and so one commit (one
    /// WAL flush, one hold of the event counter) for all of them. Each upload is inserted in a
    /// savepoint of its own: one that fails (its blob removed meanwhile, a value the database
    /// refuses) is rolled back alone and answered with its error, and its neighbours commit.
    /// Every upload is answered only after the commit; when the transaction fails, all of them
    /// get its error.
    static func recordBatch(
        _ batch: [PendingUpload], clock: any IngestClock, connections: PostgresConnections
    ) async -> [Result<UploadReceipt, any Error>] {
        let seconds = clock.now.timeIntervalSince1970
        let time = Date(timeIntervalSince1970: seconds)  // as the rows keep it
        let receipts = batch.map { receipt(of: $0.upload, at: time) }
        let logger = connections.logger
        do {
            return try await connections.transaction { connection in
                // Holds off releaseBlobs of these digests until the commit (it takes them exclusively),
                // all at once and in one order everywhere, so that no two transactions wait for each other.
                let digests = Set(batch.flatMap { $0.upload.documents.map(\.sha256) }).sorted()
                try await connection.execute(
                    """
                    SELECT pg_advisory_xact_lock_shared(hashtextextended(digest, 0))
                    FROM unnest(\(digests)::text[]) WITH ORDINALITY AS d(digest, position) ORDER BY position
                    """, logger: logger)
                let blobsPresent = await blobsArePresent(batch)
                var results: [Result<UploadReceipt, any Error>] = []
                var queued: [StatusChange] = []
                for ((item, receipt), blobsPresent) in zip(zip(batch, receipts), blobsPresent) {
                    if case .failure(let error) = blobsPresent {
                        results.append(.failure(error))
                        continue
                    }
                    do {
                        try await inSavepoint(connection, logger: logger) {
                            try await insert(item, receipt, at: seconds, connection, logger: logger)
                        }
                        queued += receipt.documents.map { StatusChange(documentID: $0.id, status: .queued) }
                        results.append(.success(receipt))
                    } catch  where !connectionIsLost(error) {
                        results.append(.failure((error as? PSQLError).map(mapped) ?? error))
                    }
                }
                // Last: the event counter stays locked from here to the commit.
                try await changeStatuses(connection, queued, at: time, logger: logger)
                return results
            }
        } catch {
            return batch.map { _ in .failure(error) }
        }
    }

    /// The receipt of `upload` recorded at `time`: what its rows will hold.
    private static func receipt(of upload: NewUpload, at time: Date) -> UploadReceipt {
        let uploadID = newID()
        let documents = upload.documents.map { document in
            DocumentRecord(
                id: newID(), uploadID: uploadID, fieldName: document.fieldName, filename: document.filename,
                filenameStar: document.filenameStar, declaredType: document.declaredType, detectedType: document.detectedType,
                charset: document.charset, size: document.size, sha256: document.sha256, status: .queued, error: nil,
                createdAt: time, updatedAt: time)
        }
        return UploadReceipt(id: uploadID, knowledgeBase: upload.knowledgeBase, createdAt: time, fields: upload.fields, documents: documents)
    }

    /// For each upload, whether all its blobs are in the blob store (asked for all uploads at once:
    /// for an object store each question is a request). Fails with ``CatalogError/blobRemoved(sha256:)``
    /// for an upload whose blob is gone, or with the blob store's error.
    private static func blobsArePresent(_ batch: [PendingUpload]) async -> [Result<Void, any Error>] {
        await withTaskGroup(of: (Int, Result<Void, any Error>).self) { group in
            for (index, item) in batch.enumerated() {
                group.addTask {
                    do {
                        for document in item.upload.documents where try await !item.blobIsPresent(document.sha256) {
                            throw CatalogError.blobRemoved(sha256: document.sha256)
                        }
                        return (index, .success(()))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results = [Result<Void, any Error>](repeating: .success(()), count: batch.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
    }

    /// Runs `body` in a savepoint: released when it returns; rolled back, and its error rethrown,
    /// when it throws (unless the connection is gone, which ends the whole transaction).
    private static func inSavepoint(
        _ connection: PostgresConnection, logger: Logger, _ body: () async throws -> Void
    ) async throws {
        try await connection.execute("SAVEPOINT upload", logger: logger)
        do {
            try await body()
        } catch  where !connectionIsLost(error) {
            try await connection.execute("ROLLBACK TO SAVEPOINT upload", logger: logger)
            try await connection.execute("RELEASE SAVEPOINT upload", logger: logger)
            throw error
        }
        try await connection.execute("RELEASE SAVEPOINT upload", logger: logger)
    }

    /// The upload, its fields, documents and jobs and the idempotency key, in one statement (the
    /// row constraints are checked at its end); idle workers are told at the commit.
    private static func insert(
        _ item: PendingUpload, _ receipt: UploadReceipt, at seconds: Double, _ connection: PostgresConnection, logger: Logger
    ) async throws {
        let (upload, idempotency, uploadID, rows) = (item.upload, item.idempotency, receipt.id, UploadRows(receipt))
        try await connection.execute(
            """
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
                UPDATE idempotency_keys SET state = 'done', fingerprint = \(item.fingerprint), upload_id = \(uploadID)
                WHERE \(idempotency != nil) AND knowledge_base = \(idempotency?.knowledgeBase ?? "") AND key = \(idempotency?.key ?? "")
            )
            SELECT pg_notify(\(JobWakeups.channel), '') WHERE \(!receipt.documents.isEmpty)
            """, logger: logger)
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
}
