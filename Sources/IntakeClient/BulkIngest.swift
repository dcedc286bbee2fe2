/// Uploads many files, each as its own upload, at most `concurrency` at a time, so that a run
/// can be repeated safely:
///
/// 1. each file's SHA-256 is computed first;
/// 2. a file whose content the target already has is skipped (as is a second file of the run
///    with the same content, once the first is stored, and an empty file);
/// 3. the upload carries an `Idempotency-Key` made from the hash and the canonical path, so a
///    retry after a lost response cannot create a second document;
/// 4. network errors, 409, 429 and 5xx are retried with backoff (``RetryPolicy``); other
///    failures are reported per file with the server's message.
///
/// Cancelling the task that runs it cancels the uploads in flight (the server keeps nothing of
/// them) and returns the summary so far.
public struct BulkIngest: Sendable {
    /// What happens during a run, in order for each file.
    public enum Event: Sendable {
        /// The run starts with this many files and bytes.
        case started(files: Int, bytes: Int64)
        /// A file is done.
        case finished(FileReport)
    }

    public var concurrency: Int
    /// Text fields sent with every file (`--field NAME=VALUE`).
    public var fields: [(name: String, value: String)]
    public var retry: RetryPolicy
    /// Hash and look up only; upload nothing.
    public var dryRun: Bool

    public init(concurrency: Int = 4, fields: [(name: String, value: String)] = [], retry: RetryPolicy = RetryPolicy(), dryRun: Bool = false) {
        self.concurrency = max(1, concurrency)
        self.fields = fields
        self.retry = retry
        self.dryRun = dryRun
    }

    /// Runs over `files`; `progress` counts the bytes hashed and sent; `onEvent` is called for
    /// each event, one at a time.
    public func run(
        _ files: [SourceFile], into target: some UploadTarget, progress: ByteCounter = ByteCounter(),
        onEvent: @escaping @Sendable (Event) async -> Void
    ) async -> IngestSummary {
        let clock = ContinuousClock()
        let start = clock.now
        var summary = IngestSummary()
        summary.files = files.count
        await onEvent(.started(files: files.count, bytes: files.reduce(0) { $0 + $1.size }))
        let claims = DigestClaims()
        var started = 0
        await withTaskGroup(of: FileReport.self) { group in
            var next = files.makeIterator()
            func startNext() -> Bool {
                guard !Task.isCancelled, let file = next.next() else { return false }
                started += 1
                group.addTask { await self.ingest(file, into: target, claims: claims, progress: progress) }
                return true
            }
            for _ in 0..<concurrency where !startNext() { break }
            while let report = await group.next() {
                summary.record(report)
                await onEvent(.finished(report))
                _ = startNext()
            }
        }
        summary.notStarted = files.count - started
        summary.interrupted = Task.isCancelled
        summary.seconds = (clock.now - start) / .seconds(1)
        return summary
    }

    /// One file, from hashing to its report. Never throws: every failure is in the report.
    private func ingest(_ file: SourceFile, into target: some UploadTarget, claims: DigestClaims, progress: ByteCounter) async -> FileReport {
        var file = file
        let sha256: String
        do {
            let digest = try await FileDigest.sha256(ofFileAt: file.path)
            sha256 = digest.sha256
            file.size = digest.size
        } catch {
            return FileReport(path: file.path, status: .failed, bytes: file.size, error: Task.isCancelled ? "interrupted" : "\(error)")
        }
        if file.size == 0 {
            // Nothing to ingest; the server would refuse it as application/x-empty.
            return FileReport(path: file.path, status: .skipped, sha256: sha256, bytes: 0, note: "empty file")
        }
        switch await claims.claim(sha256) {
        case .duplicate(let path, let documentID):
            return FileReport(path: file.path, status: .skipped, documentID: documentID, sha256: sha256, bytes: file.size, note: "same content as \(path)")
        case .owner:
            let report = await upload(file, sha256: sha256, into: target, progress: progress)
            let stored = report.status == .failed || report.documentID == nil ? nil : file.path
            await claims.finish(sha256, storedFrom: stored, documentID: report.documentID)
            return report
        }
    }

    private func upload(_ file: SourceFile, sha256: String, into target: some UploadTarget, progress: ByteCounter) async -> FileReport {
        let request = UploadRequest(file: file, sha256: sha256, fields: fields)
        var attempt = 0
        while true {
            attempt += 1
            do throws(UploadFailure) {
                if let existing = try await target.existingDocument(sha256: sha256) {
                    return FileReport(path: file.path, status: .skipped, documentID: existing, sha256: sha256, bytes: file.size, note: "already stored", attempts: attempt - 1)
                }
                if dryRun {
                    // Nothing is sent: skipped, with what a real run would do.
                    return FileReport(path: file.path, status: .skipped, sha256: sha256, bytes: file.size, note: "dry run: would upload")
                }
                let id = try await target.upload(request, progress: progress)
                return FileReport(path: file.path, status: .uploaded, documentID: id, sha256: sha256, bytes: file.size, attempts: attempt)
            } catch {
                if Task.isCancelled || error.code == "cancelled" {
                    return FileReport(path: file.path, status: .failed, sha256: sha256, bytes: file.size, error: "interrupted", attempts: attempt)
                }
                guard error.isRetryable, attempt < retry.maximumAttempts else {
                    let tries = attempt > 1 ? " (after \(attempt) attempts)" : ""
                    return FileReport(path: file.path, status: .failed, sha256: sha256, bytes: file.size, error: error.description + tries, attempts: attempt)
                }
                do {
                    try await Task.sleep(for: retry.delay(afterAttempt: attempt, retryAfter: error.retryAfter))
                } catch {
                    return FileReport(path: file.path, status: .failed, sha256: sha256, bytes: file.size, error: "interrupted", attempts: attempt)
                }
            }
        }
    }
}
