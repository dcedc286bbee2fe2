/// Where uploads and their documents are recorded.
public protocol Catalog: Sendable {
    /// Records `upload`, its documents, a queued job for each and their first status events, in
    /// one transaction — with `idempotency`'s key completed in it, when given. Call it only once
    /// every document's blob is durable. Inside the transaction each blob is checked with
    /// `blobIsPresent`: one removed by ``releaseBlobs(_:remove:)`` since it was published throws
    /// ``CatalogError/blobRemoved(sha256:)`` and nothing is recorded.
    func record(
        _ upload: NewUpload, completing idempotency: IdempotencyCompletion?, blobIsPresent: @escaping @Sendable (String) async throws -> Bool
    ) async throws -> UploadReceipt

    /// The upload `id`, or nil.
    func upload(id: String) async throws -> UploadReceipt?

    /// The document `id`, or nil.
    func document(id: String) async throws -> DocumentRecord?

    /// Documents matching `query`, oldest first, a page at a time. Throws ``InvalidCursor``.
    func documents(_ query: DocumentQuery) async throws -> DocumentPage

    /// The knowledge base of the upload that holds document `id`, or nil.
    func knowledgeBase(ofDocument id: String) async throws -> String?

    /// Removes document `id`, its job and passages; returns the digest of its blob, or nil when
    /// there was no such document. Release the blob with ``releaseBlobs(_:remove:)``.
    func deleteDocument(id: String) async throws -> String?

    /// Calls `remove` for each of `digests` that no document refers to, inside a transaction that
    /// holds off ``record(_:completing:blobIsPresent:)``: a blob is never removed under an upload
    /// that is being recorded. Returns the digests removed.
    func releaseBlobs(_ digests: [String], remove: @escaping @Sendable (String) async throws -> Void) async throws -> [String]

    /// The digest of every blob a recorded document refers to.
    func referencedDigests() async throws -> Set<String>

    /// How many documents are in each state.
    func statusCounts() async throws -> [DocumentStatus: Int]
}

/// When a failed job runs again and how often it may.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts before a job is dead.
    public var maximumAttempts: Int = 5
    /// The delay after the first failure; it doubles after each, up to ``maximumDelay``.
    public var baseDelay: Duration = .seconds(2)
    public var maximumDelay: Duration = .seconds(3600)

    public init(maximumAttempts: Int = 5, baseDelay: Duration = .seconds(2), maximumDelay: Duration = .seconds(3600)) {
        self.maximumAttempts = maximumAttempts
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
    }

    /// The delay before attempt `attempts + 1`: exponential, capped, with "equal jitter" (half
    /// fixed, half random) so that jobs failing together do not retry together.
    public func delay(afterAttempt attempts: Int, jitter: Double) -> Duration {
        let exponent = min(max(attempts - 1, 0), 30)
        let full = min(baseDelay * (1 << exponent), maximumDelay)
        return full / 2 + full / 2 * min(max(jitter, 0), 1)
    }
}

/// The queue of documents waiting for knowledge-base processing.
///
/// A worker ``claim(worker:lease:)``s the oldest runnable job and holds a lease on it; it
/// ``heartbeat(_:lease:)``s while it works, then ``complete(_:)``s or ``fail(_:error:)``s it.
/// A lease that runs out (the worker died) is returned to the queue by ``reapExpiredLeases()``,
/// so nothing stays in `processing` forever. Every transition writes a ``StatusEvent``.
public protocol JobQueue: Sendable {
    /// Queues `documentID` again from scratch (attempts reset), whatever its state, unless a
    /// worker holds it now. Returns whether it was queued. (New documents are queued by
    /// ``Catalog/record(_:)`` in the same transaction that records them.)
    func enqueue(documentID: String) async throws -> Bool
    /// Takes the oldest job whose time has come, or nil.
    func claim(worker: String, lease: Duration) async throws -> ClaimedJob?
    /// Extends `job`'s lease. Throws ``QueueError/leaseLost`` if the lease was taken away.
    func heartbeat(_ job: ClaimedJob, lease: Duration) async throws -> ClaimedJob
    /// Marks `job` processed.
    func complete(_ job: ClaimedJob) async throws
    /// Records a failed attempt: the job is retried after a backoff, or is dead after the last
    /// attempt, or at once when `permanently` (retrying cannot help: the document exceeded a bound).
    func fail(_ job: ClaimedJob, error: String, permanently: Bool) async throws -> DocumentStatus
    /// Returns jobs whose lease ran out to the queue (or to `dead` when no attempts are left);
    /// returns how many.
    func reapExpiredLeases() async throws -> Int
    /// Status events with ids after `id`, oldest first.
    func events(after id: Int64, limit: Int) async throws -> [StatusEvent]
    /// The id of the newest status event (0 when there is none).
    func newestEventID() async throws -> Int64
    /// The job of `documentID`.
    func job(documentID: String) async throws -> JobRecord?
    /// Returns when a job may have become runnable, or after `timeout` of `clock` at the latest:
    /// how an idle worker waits. A store that can tell (PostgreSQL's `LISTEN`) returns early;
    /// the default waits the whole `timeout`.
    func waitForWork(atMost timeout: Duration, clock: any Clock<Duration>) async
}

/// A queue operation on a job whose lease is no longer the caller's.
public enum QueueError: Error, Sendable, Hashable {
    /// The lease ran out and the job was reaped or claimed by another worker.
    case leaseLost(documentID: String)
}

extension Catalog {
    /// Records `upload` with no idempotency key to complete.
    public func record(_ upload: NewUpload) async throws -> UploadReceipt {
        try await record(upload, completing: nil)
    }

    /// Records `upload` without checking that its blobs are present.
    public func record(_ upload: NewUpload, completing idempotency: IdempotencyCompletion?) async throws -> UploadReceipt {
        try await record(upload, completing: idempotency, blobIsPresent: { _ in true })
    }
}

/// Why the catalog could not record an upload, where the reason decides the answer.
public enum CatalogError: Error, Sendable, Hashable {
    /// The database's disk is full.
    case storageFull
    /// The blob with this digest was removed (the last document with the same content was
    /// deleted) between publishing and recording: the upload must be sent again.
    case blobRemoved(sha256: String)
}

/// Which documents to list, and where to continue.
public struct DocumentQuery: Sendable, Hashable {
    public var status: DocumentStatus?
    public var sha256: String?
    public var knowledgeBase: String?
    /// At most this many documents (1...1000).
    public var limit: Int
    /// The `nextCursor` of the previous page.
    public var cursor: String?
    /// Newest documents first (as a person browses); oldest first by default (as a program
    /// catches up).
    public var newestFirst: Bool
    /// Only the documents it keeps.
    public var filter: DocumentFilter

    public init(
        status: DocumentStatus? = nil, sha256: String? = nil, knowledgeBase: String? = nil, limit: Int = 100, cursor: String? = nil,
        newestFirst: Bool = false, filter: DocumentFilter = DocumentFilter()
    ) {
        self.filter = filter
        self.status = status
        self.sha256 = sha256
        self.knowledgeBase = knowledgeBase
        self.limit = limit
        self.cursor = cursor
        self.newestFirst = newestFirst
    }
}

/// One page of documents, oldest first (or newest first, as the query asked).
public struct DocumentPage: Sendable, Hashable {
    public var documents: [DocumentRecord]
    /// Pass it as ``DocumentQuery/cursor`` for the next page; nil on the last page.
    public var nextCursor: String?

    public init(documents: [DocumentRecord], nextCursor: String?) {
        self.documents = documents
        self.nextCursor = nextCursor
    }
}

/// A cursor that is not one this catalog made.
public struct InvalidCursor: Error, Sendable, Hashable {
    public init() {}
}

extension DocumentQuery {
    /// ``limit`` held to 1...1000.
    public var pageSize: Int { min(max(limit, 1), 1000) }

    /// The position past which the page starts (after it, or before it when ``newestFirst``):
    /// without a cursor, 0 or the largest position. Throws ``InvalidCursor``.
    public func positionAfter() throws(InvalidCursor) -> Int64 {
        guard let cursor else { return newestFirst ? Int64.max : 0 }
        guard cursor.first == "c", let position = Int64(cursor.dropFirst(), radix: 16) else { throw InvalidCursor() }
        return position
    }

    /// The cursor of the page after the document at `position` (a store's own ordering key).
    /// Cursors are opaque to clients: "c" and the key in hex.
    public static func cursor(after position: Int64) -> String {
        "c" + String(position, radix: 16)
    }
}

extension JobQueue {
    public func waitForWork(atMost timeout: Duration, clock: any Clock<Duration>) async {
        try? await clock.sleep(for: timeout)
    }

    /// Records a failed attempt worth retrying (``fail(_:error:permanently:)``).
    public func fail(_ job: ClaimedJob, error: String) async throws -> DocumentStatus {
        try await fail(job, error: error, permanently: false)
    }
}
