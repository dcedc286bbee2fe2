public import Foundation

/// The state of uploads sent in pieces over several requests (tus 1.0, the IETF resumable-upload
/// protocol): how many bytes are durable, how many there will be, whose upload it is, and when it
/// is abandoned. The bytes themselves are in a file of the data directory; the store keeps only
/// what a node needs to answer `HEAD` and to take the next piece, on whichever node it arrives.
///
/// One append at a time: an append first claims the upload at the offset the client named
/// (``beginResumableAppend(id:at:node:leaseUntil:)``), so a second append at the same time, or at
/// another offset, is refused with ``ResumableUploadConflict`` (409) and no byte is written twice.
/// The claim ends with the new offset, which the caller reports only after the bytes are synced.
public protocol ResumableUploadStore: Sendable {
    /// Records a new upload at offset 0, unless that would make more than `limits` uploads
    /// that have not expired (in its knowledge base, or in all): then it throws
    /// ``ResumableUploadLimitReached`` and records nothing. The count and the insert are one
    /// transaction, on every node.
    func createResumableUpload(_ upload: ResumableUpload, limits: ResumableUploadLimits) async throws

    /// The upload `id`, if the store has it.
    func resumableUpload(id: String) async throws -> ResumableUpload?

    /// Claims `id` for one append at `offset` by `node`, until `leaseUntil` (a node that dies
    /// mid-append holds it no longer). Throws ``ResumableUploadConflict`` when the upload's offset
    /// is not `offset`, or another append holds it; returns the upload as it is.
    func beginResumableAppend(id: String, at offset: Int64, node: String, leaseUntil: Date) async throws -> ResumableUpload

    /// Extends the claim `node` holds on `id` to `leaseUntil`, while its append runs, and, with
    /// `offset`, records it as the upload's offset (a checkpoint of a long append: its bytes are
    /// synced; the offset never goes back). Throws ``ResumableUploadConflict`` if the claim is no
    /// longer `node`'s (it ran out and another took it), and the append must then stop writing.
    func checkpointResumableAppend(id: String, node: String, offset: Int64?, leaseUntil: Date) async throws

    /// Ends the append `node` began: the upload's offset becomes `offset` (its bytes synced
    /// before this is called), its length `length` if it was deferred and is now known, its
    /// expiry `expiresAt`. Returns the upload as it now is.
    @discardableResult
    func finishResumableAppend(id: String, node: String, offset: Int64, length: Int64?, expiresAt: Date) async throws -> ResumableUpload

    /// Forgets the upload (completed, cancelled, expired); whether it was there.
    @discardableResult
    func removeResumableUpload(id: String) async throws -> Bool

    /// Ends every append `node` holds (claims named `node`, or `node` and a space and a token of
    /// one append): at its start-up none can be running, so these were left by its process that
    /// was killed mid-append (their uploads keep their synced offsets). Other nodes' appends are
    /// theirs. Returns how many.
    @discardableResult
    func releaseResumableAppends(node: String) async throws -> Int

    /// Uploads that expired before `time` and that no append holds, oldest first, at most `limit`.
    func expiredResumableUploads(before time: Date, limit: Int) async throws -> [ResumableUpload]
}

/// An upload sent in pieces.
public struct ResumableUpload: Sendable, Hashable {
    /// A random identifier (the name of its file, the last segment of its URL).
    public var id: String
    /// The knowledge base it goes into; with API keys, the key's (others get 404).
    public var knowledgeBase: String
    /// Its bytes in all, once known (tus's `Upload-Defer-Length`, IETF's uploads of unknown length).
    public var length: Int64?
    /// Bytes received and synced.
    public var offset: Int64
    /// The file's name and type as the client gave them (tus `Upload-Metadata` filename and
    /// filetype), and every other metadata key as the upload's form fields, in order.
    public var filename: String?
    public var declaredType: String?
    public var fields: [UploadField]
    public var createdAt: Date
    /// After this, with no append in progress, the upload is swept: its file and its row.
    public var expiresAt: Date

    public init(
        id: String, knowledgeBase: String, length: Int64?, offset: Int64 = 0, filename: String?, declaredType: String?,
        fields: [UploadField], createdAt: Date, expiresAt: Date
    ) {
        self.id = id
        self.knowledgeBase = knowledgeBase
        self.length = length
        self.offset = offset
        self.filename = filename
        self.declaredType = declaredType
        self.fields = fields
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// Whether every byte has arrived.
    public var isComplete: Bool { length == offset }
}

extension ResumableUploadStore {
    /// Extends the claim `node` holds on `id` to `leaseUntil` (``checkpointResumableAppend(id:node:offset:leaseUntil:)``
    /// without an offset).
    public func renewResumableAppend(id: String, node: String, leaseUntil: Date) async throws {
        try await checkpointResumableAppend(id: id, node: node, offset: nil, leaseUntil: leaseUntil)
    }

    /// Records a new upload at offset 0, with no limit on how many there are.
    public func createResumableUpload(_ upload: ResumableUpload) async throws {
        try await createResumableUpload(upload, limits: ResumableUploadLimits(perKnowledgeBase: .max, total: .max))
    }
}

/// How many uploads sent in pieces may be open at once: each holds a file that can grow to the
/// file size limit, and a row, until it completes or expires.
public struct ResumableUploadLimits: Sendable, Hashable {
    /// In one knowledge base (with API keys: one key's).
    public var perKnowledgeBase: Int
    /// In all knowledge bases together.
    public var total: Int

    public init(perKnowledgeBase: Int = 100, total: Int = 1000) {
        self.perKnowledgeBase = perKnowledgeBase
        self.total = total
    }
}

/// A creation refused because as many uploads as allowed are open: 429.
public struct ResumableUploadLimitReached: Error, Sendable, Hashable {
    /// How many the limit allows, and whether it was the knowledge base's or the total.
    public var limit: Int
    public var isPerKnowledgeBase: Bool

    public init(limit: Int, isPerKnowledgeBase: Bool) {
        self.limit = limit
        self.isPerKnowledgeBase = isPerKnowledgeBase
    }
}

/// An append that cannot go ahead now: 409, with the offset to resume from.
public struct ResumableUploadConflict: Error, Sendable, Hashable {
    public enum Reason: Sendable, Hashable {
        /// The client named another offset than the upload's.
        case offsetMismatch
        /// Another append to this upload is in progress.
        case appendInProgress
    }

    public var reason: Reason
    /// The upload's offset now.
    public var offset: Int64

    public init(_ reason: Reason, offset: Int64) {
        self.reason = reason
        self.offset = offset
    }
}

/// The upload named does not exist (never, or no longer): 404.
public struct ResumableUploadNotFound: Error, Sendable, Hashable {
    public var id: String
    public init(id: String) { self.id = id }
}
