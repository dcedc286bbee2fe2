public import Ingest
public import Logging

/// Takes queued documents one at a time and makes them searchable: claim with a lease, extract
/// the text with the processor for the detected type, chunk, and complete (chunks replaced and
/// the document marked processed in one transaction) — or fail with the error, which the queue
/// retries with backoff and finally marks dead. The lease is renewed while the work runs; a
/// worker that dies loses nothing, since its lease runs out and the job is claimed again.
public struct ProcessingWorker: Sendable {
    public typealias Store = Catalog & JobQueue & SearchIndex

    /// The worker's name in leases (unique per worker).
    public let name: String
    let store: any Store
    let blobs: any BlobStore
    let registry: ProcessorRegistry
    let chunker: Chunker
    let logger: Logger
    /// How long a claim holds before another worker may take the job.
    public var lease: Duration = .seconds(60)
    /// How long to wait when the queue is empty, unless the store says sooner that work came.
    public var idleWait: Duration = .milliseconds(500)
    /// The most bytes of extracted text indexed per document (the rest is left out, and the
    /// document's note says so): memory per job stays bounded whatever the upload's size.
    public var maximumTextBytes = 8 << 20
    /// What the worker's waits (idle polls, heartbeats, reaping) are timed by; tests pass a clock
    /// they move by hand.
    public var clock: any Clock<Duration> = ContinuousClock()

    public init(name: String, store: any Store, blobs: any BlobStore, registry: ProcessorRegistry = .builtIn, chunker: Chunker = Chunker(), logger: Logger) {
        self.name = name
        self.store = store
        self.blobs = blobs
        self.registry = registry
        self.chunker = chunker
        self.logger = logger
    }

    /// Works until cancelled: processes jobs while there are any, and returns expired leases to
    /// the queue now and then.
    public func run() async {
        var reapIsDue: @Sendable () -> Bool = { true }
        while !Task.isCancelled {
            do {
                if reapIsDue() {
                    let reaped = try await store.reapExpiredLeases()
                    if reaped > 0 { logger.warning("jobs whose worker went away were queued again", metadata: ["jobs": "\(reaped)"]) }
                    reapIsDue = clock.deadline(after: lease / 2)
                }
                if try await processNext() { continue }
            } catch is CancellationError {
                return
            } catch {
                logger.error("worker could not reach the queue", metadata: ["worker": "\(name)", "error": "\(error)"])
            }
            await store.waitForWork(atMost: idleWait, clock: clock)
        }
    }

    /// Claims and processes one job; returns false when none was runnable.
    @discardableResult
    public func processNext() async throws -> Bool {
        guard let job = try await store.claim(worker: name, lease: lease) else { return false }
        let started = ContinuousClock.now
        do {
            let chunks: [NewChunk]
            let note: String?
            (chunks, note) = try await withLease(job) { try await extractAndChunk(job) }
            try await store.complete(job, chunks: chunks, note: note)
            logger.info(
                "document processed",
                metadata: [
                    "document": "\(job.documentID)", "chunks": "\(chunks.count)", "worker": "\(name)",
                    "ms": "\((ContinuousClock.now - started) / .milliseconds(1))",
                ])
        } catch let error as QueueError {
            logger.warning("lease lost; another worker has the job", metadata: ["document": "\(job.documentID)", "error": "\(error)"])
        } catch is CancellationError {
            // Shutting down: leave the job to its lease, another worker (or the next start) takes it.
            throw CancellationError()
        } catch {
            let message = (error as? ProcessingError)?.message ?? "\(error)"
            let state = try await store.fail(job, error: message, permanently: (error as? ProcessingError)?.isPermanent ?? false)
            logger.warning(
                "document processing failed",
                metadata: [
                    "document": "\(job.documentID)", "attempt": "\(job.attempts)", "state": "\(state.rawValue)", "error": "\(message)",
                ])
        }
        return true
    }

    private func extractAndChunk(_ job: ClaimedJob) async throws -> ([NewChunk], String?) {
        guard let record = try await store.document(id: job.documentID) else {
            throw ProcessingError("the document was deleted")
        }
        guard let processor = registry.processor(for: record.detectedType) else {
            throw ProcessingError("no processor reads \(record.detectedType)")
        }
        let maximumTextBytes = self.maximumTextBytes
        // The blob itself on local disk; a temporary copy from an object store, removed after.
        var extracted = try await blobs.withLocalFile(record.sha256) { path in
            try await processor.extract(ProcessingInput(record: record, path: path, maximumTextBytes: maximumTextBytes))
        }
        if extracted.text.utf8.count > maximumTextBytes {
            extracted.text = extracted.text.utf8Prefix(maximumTextBytes)
            extracted.isTruncated = true
        }
        let chunks = chunker.chunks(of: extracted)
        let limitNote = extracted.isTruncated ? "only the first \(ExtractionLimits.size(maximumTextBytes)) of text were indexed" : nil
        return (
            chunks,
            [extracted.note, limitNote].compactMap { $0 }.joined(separator: "; ").nilIfEmpty
                ?? (chunks.isEmpty ? "no text was found in the document" : nil)
        )
    }

    /// Runs `work` while renewing `job`'s lease every third of it; if the lease is lost, the work
    /// is cancelled and ``QueueError/leaseLost(documentID:)`` thrown.
    private func withLease<T: Sendable>(_ job: ClaimedJob, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                var current = job
                while true {
                    try await clock.sleep(for: lease / 3)
                    current = try await store.heartbeat(current, lease: lease)
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let value = result { return value }
            }
            throw CancellationError()
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

extension Clock {
    /// A test of whether `duration` has passed on this clock since now.
    func deadline(after duration: Duration) -> @Sendable () -> Bool {
        let end = now.advanced(by: duration)
        return { self.now >= end }
    }
}
