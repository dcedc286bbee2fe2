public import Foundation

/// Where a document is in knowledge-base processing. Documents and their jobs share these states.
public enum DocumentStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Waiting for a worker (again, after a failed attempt with attempts left: see `runAfter`).
    case queued
    /// A worker holds a lease on it.
    case processing
    /// Done: searchable.
    case processed
    /// The last attempt failed; it will be retried after its backoff.
    case failed
    /// Every attempt failed; no more retries.
    case dead
}

/// A text field of an upload, kept as metadata.
public struct UploadField: Sendable, Hashable, Codable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A file part ready to be recorded: its blob is durable.
public struct NewDocument: Sendable, Hashable {
    public var fieldName: String
    public var filename: String?
    public var filenameStar: String?
    public var declaredType: String?
    public var detectedType: String
    public var charset: String?
    public var size: Int
    public var sha256: String
    /// The part's index in its upload's body (for error messages).
    public var partIndex: Int = 0

    public init(fieldName: String, filename: String?, filenameStar: String?, declaredType: String?, detectedType: String, charset: String?, size: Int, sha256: String) {
        self.fieldName = fieldName
        self.filename = filename
        self.filenameStar = filenameStar
        self.declaredType = declaredType
        self.detectedType = detectedType
        self.charset = charset
        self.size = size
        self.sha256 = sha256
    }
}

/// An upload ready to be recorded in one transaction, with its documents and their jobs.
public struct NewUpload: Sendable, Hashable {
    public var knowledgeBase: String
    public var fields: [UploadField]
    public var documents: [NewDocument]

    public init(knowledgeBase: String, fields: [UploadField], documents: [NewDocument]) {
        self.knowledgeBase = knowledgeBase
        self.fields = fields
        self.documents = documents
    }
}

/// A recorded document.
public struct DocumentRecord: Sendable, Hashable, Identifiable {
    public var id: String
    public var uploadID: String
    public var fieldName: String
    public var filename: String?
    public var filenameStar: String?
    public var declaredType: String?
    public var detectedType: String
    public var charset: String?
    public var size: Int
    public var sha256: String
    public var status: DocumentStatus
    public var error: String?
    /// Why a processed document has no passages (an image, say).
    public var note: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, uploadID: String, fieldName: String, filename: String?, filenameStar: String?, declaredType: String?,
        detectedType: String, charset: String?, size: Int, sha256: String, status: DocumentStatus, error: String?,
        note: String? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.note = note
        self.id = id
        self.uploadID = uploadID
        self.fieldName = fieldName
        self.filename = filename
        self.filenameStar = filenameStar
        self.declaredType = declaredType
        self.detectedType = detectedType
        self.charset = charset
        self.size = size
        self.sha256 = sha256
        self.status = status
        self.error = error
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A recorded upload: what `POST /uploads` answers.
public struct UploadReceipt: Sendable, Hashable, Identifiable {
    public var id: String
    public var knowledgeBase: String
    public var createdAt: Date
    public var fields: [UploadField]
    public var documents: [DocumentRecord]

    public init(id: String, knowledgeBase: String, createdAt: Date, fields: [UploadField], documents: [DocumentRecord]) {
        self.id = id
        self.knowledgeBase = knowledgeBase
        self.createdAt = createdAt
        self.fields = fields
        self.documents = documents
    }
}

/// A queued document's job, as a worker sees it after claiming it.
public struct ClaimedJob: Sendable, Hashable {
    public var documentID: String
    /// Attempts so far, this one included.
    public var attempts: Int
    public var leaseOwner: String
    public var leaseUntil: Date

    public init(documentID: String, attempts: Int, leaseOwner: String, leaseUntil: Date) {
        self.documentID = documentID
        self.attempts = attempts
        self.leaseOwner = leaseOwner
        self.leaseUntil = leaseUntil
    }
}

/// A job's row, for inspection.
public struct JobRecord: Sendable, Hashable {
    public var documentID: String
    public var state: DocumentStatus
    public var attempts: Int
    public var runAfter: Date
    public var leaseOwner: String?
    public var leaseUntil: Date?
    public var lastError: String?

    public init(documentID: String, state: DocumentStatus, attempts: Int, runAfter: Date, leaseOwner: String?, leaseUntil: Date?, lastError: String?) {
        self.documentID = documentID
        self.state = state
        self.attempts = attempts
        self.runAfter = runAfter
        self.leaseOwner = leaseOwner
        self.leaseUntil = leaseUntil
        self.lastError = lastError
    }
}

/// One status change of a document. Ids only grow: a reader resumes after the last id it saw.
public struct StatusEvent: Sendable, Hashable, Identifiable {
    public var id: Int64
    public var documentID: String
    public var state: DocumentStatus
    public var time: Date

    public init(id: Int64, documentID: String, state: DocumentStatus, time: Date) {
        self.id = id
        self.documentID = documentID
        self.state = state
        self.time = time
    }
}
