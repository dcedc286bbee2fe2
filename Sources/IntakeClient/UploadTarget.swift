/// Where ``BulkIngest`` sends files: an Intake server (``RemoteTarget``), or a local data
/// directory through the same ingestion pipeline (the `intake` executable's local target).
public protocol UploadTarget: Sendable {
    /// The id of a document the target already holds with this content, if any.
    func existingDocument(sha256: String) async throws(UploadFailure) -> String?

    /// Uploads one file, adding the file bytes sent to `progress`; returns the id of the
    /// document it became.
    func upload(_ request: UploadRequest, progress: ByteCounter) async throws(UploadFailure) -> String
}

/// Why one file could not be uploaded, and whether trying again may help.
public struct UploadFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP status, when the server answered.
    public var status: Int?
    /// The server's error code (`type_rejected`, `limit_exceeded`, …) or one of ours
    /// (`network`, `file_changed`, `read_failed`, `bad_response`).
    public var code: String
    public var message: String
    /// Network errors, 409 (a retry while the first attempt is still running), 429 and 5xx.
    public var isRetryable: Bool
    /// The server's `Retry-After`, in seconds.
    public var retryAfter: Double?

    public init(status: Int? = nil, code: String, message: String, isRetryable: Bool, retryAfter: Double? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.isRetryable = isRetryable
        self.retryAfter = retryAfter
    }

    /// A failure for an HTTP error status.
    public static func http(status: Int, code: String, message: String, retryAfter: Double? = nil) -> UploadFailure {
        UploadFailure(
            status: status, code: code, message: message,
            isRetryable: status == 409 || status == 429 || status >= 500, retryAfter: retryAfter)
    }

    public var description: String {
        if let status { return "\(status) \(code): \(message)" }
        return "\(code): \(message)"
    }
}
