public import Multipart

/// Why an upload was not ingested. Whatever the error, nothing of the upload remains: no
/// temporary file, no row.
public enum IngestError: Error, Sendable, CustomStringConvertible {
    /// The body is not a valid multipart/form-data body, or crossed a parser limit.
    case invalidBody(MultipartError)
    /// A file part's detected type is refused by the policy.
    case typeRejected(TypeRejection)
    /// A file part is larger than the file-size limit.
    case fileTooLarge(part: Int, limit: Int)
    /// The disk failed or is full.
    case storage(StorageError)
    /// The request body could not be read (the client went away, or its stream failed).
    case bodyFailed(String)
    /// The catalog could not record the upload.
    case catalog(String)
    /// The catalog's disk is full.
    case catalogFull
    /// The store cannot be reached for now (``StoreUnavailable``): nothing was recorded; retry later.
    case storeUnavailable(String)
    /// A blob of the upload was removed while it was being recorded (the last other document
    /// with the same content was deleted at that moment): send the upload again.
    case blobRemoved(sha256: String)
    /// The task was cancelled.
    case cancelled

    public var description: String {
        switch self {
        case .invalidBody(let error): return "invalid multipart body: \(error)"
        case .typeRejected(let rejection): return rejection.description
        case .fileTooLarge(let part, let limit): return "file part \(part) is larger than the limit of \(limit) bytes"
        case .storage(let error): return "storage: \(error)"
        case .bodyFailed(let message): return "reading the body failed: \(message)"
        case .catalog(let message): return "recording the upload failed: \(message)"
        case .catalogFull: return "recording the upload failed: the database's disk is full"
        case .storeUnavailable(let reason): return "recording the upload failed: \(reason)"
        case .blobRemoved(let sha256): return "the content \(sha256) was deleted while this upload was recorded; send it again"
        case .cancelled: return "the upload was cancelled"
        }
    }
}

/// A file part whose detected type the policy refuses.
public struct TypeRejection: Sendable, Hashable, CustomStringConvertible {
    /// The part's index in the body.
    public var part: Int
    /// Its Content-Disposition name.
    public var fieldName: String
    /// Its filename as sent (never a path).
    public var filename: String?
    /// The Content-Type the client declared, if any.
    public var declaredType: String?
    /// What libmagic found in the bytes.
    public var detectedType: String

    public var description: String {
        let name = filename.map { " (\"\($0)\")" } ?? ""
        return "part \(part) '\(fieldName)'\(name) is \(detectedType), declared as \(declaredType ?? "nothing"): this type is not accepted"
    }
}
