/// What became of one file in a ``BulkIngest`` run.
public struct FileReport: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        /// Sent and stored.
        case uploaded
        /// Not sent: the target already holds this content, another file of the run had it, the
        /// file is empty, or the run is a dry run (``FileReport/note`` says which).
        case skipped
        case failed
    }

    public var path: String
    public var status: Status
    public var documentID: String?
    public var sha256: String?
    public var bytes: Int64
    /// Why the file failed (the server's message, with its status and code).
    public var error: String?
    /// Why it was skipped (`already stored`, `same content as …`, `empty file`, `dry run: would upload`).
    public var note: String?
    /// Upload attempts made.
    public var attempts: Int

    public init(path: String, status: Status, documentID: String? = nil, sha256: String? = nil, bytes: Int64, error: String? = nil, note: String? = nil, attempts: Int = 0) {
        self.path = path
        self.status = status
        self.documentID = documentID
        self.sha256 = sha256
        self.bytes = bytes
        self.error = error
        self.note = note
        self.attempts = attempts
    }
}

/// The totals of a ``BulkIngest`` run.
public struct IngestSummary: Sendable, Hashable {
    public var files = 0
    public var uploaded = 0
    public var skipped = 0
    public var failed = 0
    /// File bytes of the uploaded files.
    public var bytesUploaded: Int64 = 0
    public var seconds: Double = 0
    /// The files that failed, in the order they did.
    public var failures: [FileReport] = []
    /// Whether the run was cancelled (Ctrl-C) before every file was handled.
    public var interrupted = false
    /// Files never started because the run was interrupted.
    public var notStarted = 0

    public init() {}

    /// Whether every file was uploaded or skipped.
    public var succeeded: Bool { failed == 0 && !interrupted }

    /// Counts `report` in.
    public mutating func record(_ report: FileReport) {
        switch report.status {
        case .uploaded:
            uploaded += 1
            bytesUploaded += report.bytes
        case .skipped:
            skipped += 1
        case .failed:
            failed += 1
            failures.append(report)
        }
    }
}
