public import NIOCore

/// Where document bytes are kept, by the SHA-256 of their content: the seam between the ingestor,
/// the workers and the HTTP routes on one side and a disk or an object store on the other.
///
/// Every upload is first written to the local ``spool`` (`tmp/`), hashed, sniffed and checked
/// as it arrives; once the body is good, ``publish(_:)`` makes its blobs durable in the store and
/// returns only when they are. Equal content is stored once. A blob is removed only through
/// ``Catalog/releaseBlobs(_:remove:)`` or garbage collection (``listBlobs()``), never while a
/// document refers to it.
public protocol BlobStore: Sendable {
    /// The local directory uploads are written to before they are published.
    var spool: BlobSpool { get }

    /// A writer for a new blob in the spool, `fileSizeLimit` bytes at most, hashing what this
    /// store needs hashed (by default the whole content).
    func makeWriter(fileSizeLimit: Int?) throws(StorageError) -> BlobWriter

    /// Makes written blobs durable under their digests (equal content already stored is not
    /// stored again) and removes their spooled files. Throws if any could not be: those not yet
    /// stored are removed from the spool, and nothing half-written is left in the store.
    func publish(_ blobs: [WrittenBlob]) async throws(StorageError) -> [StoredBlob]

    /// Removes a written blob that will not be published, and whatever the store began for it.
    func discard(_ blob: WrittenBlob)

    /// Whether the blob `sha256` is stored.
    func contains(_ sha256: String) async throws(StorageError) -> Bool

    /// The bytes of `sha256`, all of them or `range` (within the blob), streamed; nil if the
    /// blob is not stored.
    func read(_ sha256: String, range: Range<Int>?) async throws(StorageError) -> BlobContent?

    /// Runs `body` with the path of a local file holding the blob `sha256` (for programs that
    /// read files, such as `pdftotext`): the blob itself on disk, or a temporary copy that is
    /// removed when `body` returns.
    func withLocalFile<Result: Sendable>(
        _ sha256: String, _ body: (_ path: String) async throws -> Result
    ) async throws -> Result

    /// Removes the blob `sha256`; one already gone is not an error.
    func remove(_ sha256: String) async throws(StorageError)

    /// Every stored blob with the time it was stored, for garbage collection.
    func listBlobs() async throws(StorageError) -> [BlobListing]

    /// Cleans up what a publish cut short by a crash left in the store, if anything older than
    /// `age` (an object store's unfinished multipart uploads and objects never linked); returns how many.
    func sweepAbandonedWrites(olderThan age: Duration) async throws(StorageError) -> Int

    /// Releases connections; the store is not used afterwards.
    func shutdown() async
}

extension BlobStore {
    public func makeWriter(fileSizeLimit: Int?) throws(StorageError) -> BlobWriter {
        try spool.makeWriter(fileSizeLimit: fileSizeLimit)
    }

    /// A writer for a new blob with no size limit.
    public func makeWriter() throws(StorageError) -> BlobWriter {
        try makeWriter(fileSizeLimit: nil)
    }

    /// Removes a written blob that will not be published.
    public func discard(_ blob: WrittenBlob) {
        spool.discard(blob)
    }
}

/// The rule for blob names.
public enum BlobDigest {
    /// Whether `sha256` is 64 lowercase hex digits, the only names blobs have (never a client's string).
    public static func isValid(_ sha256: String) -> Bool {
        sha256.utf8.count == 64 && sha256.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

/// A stored blob as garbage collection sees it.
public struct BlobListing: Sendable, Hashable {
    public var sha256: String
    /// When it was stored, in seconds since 1970.
    public var storedAt: Int

    public init(sha256: String, storedAt: Int) {
        self.sha256 = sha256
        self.storedAt = storedAt
    }
}

/// Bytes of a blob on their way out: which of them, and the stream that carries them.
public struct BlobContent: Sendable {
    /// The whole blob's size.
    public var size: Int
    /// The bytes ``bytes`` carries.
    public var range: Range<Int>
    public var bytes: BlobBytes

    public init(size: Int, range: Range<Int>, bytes: BlobBytes) {
        self.size = size
        self.range = range
        self.bytes = bytes
    }
}

/// A stream of a blob's bytes, read only as fast as it is consumed, whatever the store.
public struct BlobBytes: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    public typealias Failure = any Error

    private let makeNext: @Sendable () -> @Sendable () async throws -> ByteBuffer?

    /// A stream whose iterator calls the closure `makeNext` returns until it returns nil.
    public init(_ makeNext: @escaping @Sendable () -> @Sendable () async throws -> ByteBuffer?) {
        self.makeNext = makeNext
    }

    /// The elements of `sequence`.
    public init<Base: AsyncSequence & Sendable>(_ sequence: Base) where Base.Element == ByteBuffer {
        self.init {
            let iterator = IteratorBox(sequence.makeAsyncIterator())
            return { try await iterator.next() }
        }
    }

    public func makeAsyncIterator() -> Iterator { Iterator(advance: makeNext()) }

    public struct Iterator: AsyncIteratorProtocol {
        let advance: @Sendable () async throws -> ByteBuffer?

        public mutating func next() async throws -> ByteBuffer? { try await advance() }
    }
}

/// Holds an iterator that one consumer at a time advances, so a closure can carry it.
private final class IteratorBox<Base: AsyncIteratorProtocol>: @unchecked Sendable where Base.Element == ByteBuffer {
    private var base: Base

    init(_ base: Base) {
        self.base = base
    }

    func next() async throws -> ByteBuffer? {
        try await base.next()
    }
}
