import Foundation
import GRDB
import Glibc
public import Ingest

/// The embedded catalog and job queue: one SQLite file in WAL mode, through GRDB.
///
/// One method per action, each one transaction. SQLite has a single writer, so claiming the
/// oldest job in a write transaction is already exclusive.
public final class SQLiteStore: IntakeStore {
    let database: DatabasePool
    /// Uploads recorded together share a transaction and its fsync.
    let uploadCommits: GroupCommit<UploadReceipt>
    let clock: any IngestClock
    private let retry: RetryPolicy
    private let jitter: @Sendable () -> Double

    /// Opens (creating and migrating if needed) the database at `path`. The database holds every
    /// tenant's text: it and its `-wal` and `-shm` files are readable by their owner only (0600),
    /// whatever the umask (SQLite gives the journal files the database file's mode).
    ///
    /// - Parameter jitter: a number in 0...1 for each retry delay; random by default.
    public init(
        path: String, clock: any IngestClock = SystemClock(), retry: RetryPolicy = RetryPolicy(),
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        Self.restrictPermissions(ofDatabaseAt: path)
        database = try DatabasePool(path: path, configuration: configuration)
        // WAL keeps readers off the writer's back. NORMAL, which the pool sets on its writer (the
        // one connection that commits) when it turns WAL on, is durable across application
        // crashes only; FULL also across power loss, which a 201 promises. Set after the pool
        // opens: set in `prepareDatabase`, the pool's own NORMAL came after it.
        try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        uploadCommits = GroupCommit(writer: database)
        try SQLiteSchema.migrator.migrate(database)
        self.clock = clock
        self.retry = retry
        self.jitter = jitter
    }

    /// The writer's `PRAGMA synchronous` (2 is FULL: every commit is fsynced before it returns).
    var writerSynchronousMode: Int {
        get throws { try database.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 } }
    }

    /// Creates the database file with mode 0600 if it is missing, and takes group and other access
    /// away from it and its journal files if they exist.
    private static func restrictPermissions(ofDatabaseAt path: String) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            fchmod(descriptor, 0o600)
            Glibc.close(descriptor)
        }
        for suffix in ["-wal", "-shm"] { chmod(path + suffix, 0o600) }
    }

    // MARK: - Catalog

    public func record(
        _ upload: NewUpload, completing idempotency: IdempotencyCompletion?, blobIsPresent: @escaping @Sendable (String) async throws -> Bool
    ) async throws -> UploadReceipt {
        let now = clock.now
        let uploadID = Self.newID()
        let documentIDs = upload.documents.map { _ in Self.newID() }
        // The receipt is what the rows hold (times as the REAL columns keep them), not read back.
        let time = Date(timeIntervalSince1970: now.timeIntervalSince1970)
        let receipt = UploadReceipt(
            id: uploadID, knowledgeBase: upload.knowledgeBase, createdAt: time, fields: upload.fields,
            documents: zip(upload.documents, documentIDs).map { document, id in
                DocumentRecord(
                    id: id, uploadID: uploadID, fieldName: document.fieldName, filename: document.filename,
                    filenameStar: document.filenameStar, declaredType: document.declaredType, detectedType: document.detectedType,
                    charset: document.charset, size: document.size, sha256: document.sha256, status: .queued, error: nil,
                    createdAt: time, updatedAt: time)
            })
        return try await Self.mappingStorageFull {
            try await uploadCommits.submit { db in
                // SQLite's writer is a thread of its own: it waits for the blob store here, so that
                // no release of these digests slips in between the check and the commit.
                for document in upload.documents {
                    let sha256 = document.sha256
                    if try !WaitingForAsync.result(of: { try await blobIsPresent(sha256) }) { throw CatalogError.blobRemoved(sha256: sha256) }
                }
                try db.executeCached(
                    sql: "INSERT INTO uploads (id, knowledge_base, created_at) VALUES (?, ?, ?)",
                    arguments: [uploadID, upload.knowledgeBase, now.timeIntervalSince1970])
                for (position, field) in upload.fields.enumerated() {
                    try db.executeCached(
                        sql: "INSERT INTO upload_fields (upload_id, position, name, value) VALUES (?, ?, ?, ?)",
                        arguments: [uploadID, position, field.name, field.value])
                }
                for (position, (document, id)) in zip(upload.documents, documentIDs).enumerated() {
                    try db.executeCached(
                        sql: """
                            INSERT INTO documents (id, upload_id, position, field_name, filename, filename_star, declared_type,
                                detected_type, charset, size, sha256, status, created_at, updated_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)
                            """,
                        arguments: [
                            id, uploadID, position, document.fieldName, document.filename, document.filenameStar,
                            document.declaredType, document.detectedType, document.charset, document.size,
                            document.sha256, now.timeIntervalSince1970, now.timeIntervalSince1970,
                        ])
                    try db.executeCached(
                        sql: "INSERT INTO jobs (document_id, state, run_after, enqueued_at) VALUES (?, 'queued', ?, ?)",
                        arguments: [id, now.timeIntervalSince1970, now.timeIntervalSince1970])
                    try Self.writeEvent(db, documentID: id, state: .queued, at: now)
                }
                if let idempotency {
                    try Self.completeIdempotency(db, idempotency, upload: upload, uploadID: uploadID)
                }
                return receipt
            }
        }
    }

    public func upload(id: String) async throws -> UploadReceipt? {
        try await database.read { db in try Self.upload(db, id: id) }
    }

    private static func upload(_ db: Database, id: String) throws -> UploadReceipt? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM uploads WHERE id = ?"), arguments: [id]) else { return nil }
        let fields = try Row.fetchAll(db.cachedStatement(sql: "SELECT name, value FROM upload_fields WHERE upload_id = ? ORDER BY position"), arguments: [id])
            .map { UploadField(name: $0["name"], value: $0["value"]) }
        let documents = try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM documents WHERE upload_id = ? ORDER BY position"), arguments: [id])
            .map(Self.document(from:))
        return UploadReceipt(
            id: row["id"], knowledgeBase: row["knowledge_base"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]), fields: fields, documents: documents)
    }

    public func document(id: String) async throws -> DocumentRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM documents WHERE id = ?", arguments: [id]).map(Self.document(from:))
        }
    }

    public func documents(_ query: DocumentQuery) async throws -> DocumentPage {
        let after = try query.positionAfter()
        let limit = query.pageSize
        return try await database.read { db in
            var conditions = [query.newestFirst ? "documents.rowid < ?" : "documents.rowid > ?"]
            var arguments: StatementArguments = [after]
            if let status = query.status {
                conditions.append("documents.status = ?")
                _ = arguments.append(contentsOf: [status.rawValue])
            }
            if let sha256 = query.sha256 {
                conditions.append("documents.sha256 = ?")
                _ = arguments.append(contentsOf: [sha256])
            }
            if let knowledgeBase = query.knowledgeBase {
                conditions.append("uploads.knowledge_base = ?")
                _ = arguments.append(contentsOf: [knowledgeBase])
            }
            let filter = Self.conditions(query.filter)
            conditions += filter.sql
            _ = arguments.append(contentsOf: filter.arguments)
            _ = arguments.append(contentsOf: [limit + 1])
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT documents.rowid AS position_key, documents.* FROM documents JOIN uploads ON uploads.id = documents.upload_id
                    WHERE \(conditions.joined(separator: " AND ")) ORDER BY documents.rowid \(query.newestFirst ? "DESC" : "ASC") LIMIT ?
                    """, arguments: arguments)
            let page = rows.prefix(limit)
            let next = rows.count > limit ? page.last.map { DocumentQuery.cursor(after: $0["position_key"]) } : nil
            return DocumentPage(documents: page.map(Self.document(from:)), nextCursor: next)
        }
    }

    public func knowledgeBase(ofDocument id: String) async throws -> String? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT uploads.knowledge_base FROM documents JOIN uploads ON uploads.id = documents.upload_id WHERE documents.id = ?", arguments: [id])
        }
    }

    public func deleteDocument(id: String) async throws -> String? {
        try await database.write { db in
            let digest = try String.fetchOne(db, sql: "SELECT sha256 FROM documents WHERE id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM documents WHERE id = ?", arguments: [id])
            return db.changesCount == 1 ? digest : nil
        }
    }

    public func releaseBlobs(_ digests: [String], remove: @escaping @Sendable (String) async throws -> Void) async throws -> [String] {
        try await database.write { db in
            var removed: [String] = []
            for digest in Set(digests).sorted()
            where try !Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM documents WHERE sha256 = ?)", arguments: [digest])! {
                try WaitingForAsync.result(of: { try await remove(digest) })
                removed.append(digest)
            }
            return removed
        }
    }

    /// Runs `body`, reporting a full disk as ``CatalogError/storageFull``.
    static func mappingStorageFull<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            throw CatalogError.storageFull
        }
    }

    public func referencedDigests() async throws -> Set<String> {
        try await database.read { db in Set(try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM documents")) }
    }

    public func statusCounts() async throws -> [DocumentStatus: Int] {
        try await database.read { db in
            var counts: [DocumentStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS count FROM documents GROUP BY status") {
                if let status = DocumentStatus(rawValue: row["status"]) { counts[status] = row["count"] }
            }
            return counts
        }
    }

    /// Closes the database's connections.
    public func close() async throws {
        try database.close()
    }

    // MARK: - JobQueue

    public func enqueue(documentID: String) async throws -> Bool {
        let now = clock.now
        return try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET state = 'queued', attempts = 0, run_after = ?, enqueued_at = ?, last_error = NULL
                    WHERE document_id = ? AND state != 'processing'
                    """, arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970, documentID])
            guard db.changesCount == 1 else { return false }
            try Self.setDocumentStatus(db, documentID: documentID, .queued, error: nil, at: now)
            return true
        }
    }

    public func claim(worker: String, lease: Duration) async throws -> ClaimedJob? {
        let now = clock.now
        let leaseUntil = now.addingTimeInterval(lease.timeInterval)
        return try await database.write { db -> ClaimedJob? in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT document_id, attempts FROM jobs
                        WHERE state IN ('queued', 'failed') AND run_after <= ?
                        ORDER BY run_after, enqueued_at LIMIT 1
                        """, arguments: [now.timeIntervalSince1970])
            else { return nil }
            let documentID: String = row["document_id"]
            let attempts: Int = row["attempts"] + 1
            try db.execute(
                sql: """
                    UPDATE jobs SET state = 'processing', attempts = ?, lease_owner = ?, lease_until = ? WHERE document_id = ?
                    """, arguments: [attempts, worker, leaseUntil.timeIntervalSince1970, documentID])
            try Self.setDocumentStatus(db, documentID: documentID, .processing, error: nil, at: now)
            return ClaimedJob(documentID: documentID, attempts: attempts, leaseOwner: worker, leaseUntil: leaseUntil)
        }
    }

    public func heartbeat(_ job: ClaimedJob, lease: Duration) async throws -> ClaimedJob {
        let leaseUntil = clock.now.addingTimeInterval(lease.timeInterval)
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET lease_until = ? WHERE document_id = ? AND state = 'processing' AND lease_owner = ? AND attempts = ?
                    """, arguments: [leaseUntil.timeIntervalSince1970, job.documentID, job.leaseOwner, job.attempts])
            if db.changesCount == 0 { throw QueueError.leaseLost(documentID: job.documentID) }
        }
        var extended = job
        extended.leaseUntil = leaseUntil
        return extended
    }

    public func complete(_ job: ClaimedJob) async throws {
        let now = clock.now
        try await database.write { db in
            try Self.takeBack(db, job)
            try Self.markProcessed(db, job, at: now)
        }
    }

    public func fail(_ job: ClaimedJob, error: String, permanently: Bool) async throws -> DocumentStatus {
        let now = clock.now
        let state: DocumentStatus = permanently || job.attempts >= retry.maximumAttempts ? .dead : .failed
        let runAfter = now.addingTimeInterval(retry.delay(afterAttempt: job.attempts, jitter: jitter()).timeInterval)
        try await database.write { db in
            try Self.takeBack(db, job)
            try db.execute(
                sql: """
                    UPDATE jobs SET state = ?, run_after = ?, lease_owner = NULL, lease_until = NULL, last_error = ? WHERE document_id = ?
                    """, arguments: [state.rawValue, runAfter.timeIntervalSince1970, error, job.documentID])
            try Self.setDocumentStatus(db, documentID: job.documentID, state, error: error, at: now)
        }
        return state
    }

    public func reapExpiredLeases() async throws -> Int {
        let now = clock.now
        let maximumAttempts = retry.maximumAttempts
        return try await database.write { db in
            let expired = try Row.fetchAll(
                db,
                sql: """
                    SELECT document_id, attempts FROM jobs WHERE state = 'processing' AND lease_until < ?
                    """, arguments: [now.timeIntervalSince1970])
            for row in expired {
                let documentID: String = row["document_id"]
                let attempts: Int = row["attempts"]
                let state: DocumentStatus = attempts >= maximumAttempts ? .dead : .queued
                let error = "the worker's lease ran out (attempt \(attempts))"
                try db.execute(
                    sql: """
                        UPDATE jobs SET state = ?, run_after = ?, lease_owner = NULL, lease_until = NULL, last_error = ? WHERE document_id = ?
                        """, arguments: [state.rawValue, now.timeIntervalSince1970, error, documentID])
                try Self.setDocumentStatus(db, documentID: documentID, state, error: state == .dead ? error : nil, at: now)
            }
            return expired.count
        }
    }

    /// The id of the newest status event (0 when there is none).
    public func newestEventID() async throws -> Int64 {
        try await database.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM status_events") ?? 0 }
    }

    public func events(after id: Int64, limit: Int) async throws -> [StatusEvent] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM status_events WHERE id > ? ORDER BY id LIMIT ?", arguments: [id, limit]).map { row in
                StatusEvent(
                    id: row["id"], documentID: row["document_id"], state: DocumentStatus(rawValue: row["state"]) ?? .queued,
                    time: Date(timeIntervalSince1970: row["time"]))
            }
        }
    }

    public func job(documentID: String) async throws -> JobRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE document_id = ?", arguments: [documentID]).map { row in
                JobRecord(
                    documentID: row["document_id"], state: DocumentStatus(rawValue: row["state"]) ?? .queued, attempts: row["attempts"],
                    runAfter: Date(timeIntervalSince1970: row["run_after"]), leaseOwner: row["lease_owner"],
                    leaseUntil: (row["lease_until"] as Double?).map(Date.init(timeIntervalSince1970:)), lastError: row["last_error"])
            }
        }
    }

    // MARK: - Helpers

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await database.read(body)
    }

    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await database.write(body)
    }

    /// Ends `job` as processed (its lease already checked by ``takeBack(_:_:)``).
    static func markProcessed(_ db: Database, _ job: ClaimedJob, at time: Date) throws {
        try db.execute(
            sql: "UPDATE jobs SET state = 'processed', lease_owner = NULL, lease_until = NULL, last_error = NULL WHERE document_id = ?",
            arguments: [job.documentID])
        try setDocumentStatus(db, documentID: job.documentID, .processed, error: nil, at: time)
    }

    /// Checks that `job` is still the caller's: processing, under the same owner and attempt.
    static func takeBack(_ db: Database, _ job: ClaimedJob) throws {
        let owned =
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT 1 FROM jobs WHERE document_id = ? AND state = 'processing' AND lease_owner = ? AND attempts = ?
                    """, arguments: [job.documentID, job.leaseOwner, job.attempts]) ?? false
        if !owned { throw QueueError.leaseLost(documentID: job.documentID) }
    }

    static func setDocumentStatus(_ db: Database, documentID: String, _ status: DocumentStatus, error: String?, at time: Date) throws {
        try db.execute(
            sql: "UPDATE documents SET status = ?, error = ?, updated_at = ? WHERE id = ?",
            arguments: [status.rawValue, error, time.timeIntervalSince1970, documentID])
        try writeEvent(db, documentID: documentID, state: status, at: time)
    }

    private static func writeEvent(_ db: Database, documentID: String, state: DocumentStatus, at time: Date) throws {
        try db.executeCached(
            sql: "INSERT INTO status_events (document_id, state, time) VALUES (?, ?, ?)",
            arguments: [documentID, state.rawValue, time.timeIntervalSince1970])
    }

    private static func document(from row: Row) -> DocumentRecord {
        DocumentRecord(
            id: row["id"], uploadID: row["upload_id"], fieldName: row["field_name"], filename: row["filename"],
            filenameStar: row["filename_star"], declaredType: row["declared_type"], detectedType: row["detected_type"],
            charset: row["charset"], size: row["size"], sha256: row["sha256"],
            status: DocumentStatus(rawValue: row["status"]) ?? .queued, error: row["error"], note: row["note"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]), updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }

    private static func newID() -> String { RandomIdentifier.uuid() }
}
