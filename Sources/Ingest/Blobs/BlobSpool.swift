public import Crypto
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The local directory (`ROOT/tmp/`) every upload is written to as it arrives, before a
/// ``BlobStore`` publishes it: files named `<random>.part`, created `0640`, removed at start-up
/// after a crash unless another process has the directory open (``TemporaryDirectoryLock``).
public struct BlobSpool: Sendable {
    /// The spool directory.
    public let directory: String
    private let lock: TemporaryDirectoryLock

    /// Opens (creating if needed) `directory`, and removes whatever it holds — files left by
    /// uploads that were cut short by a crash — unless another process has it open.
    public init(directory: String) throws(StorageError) {
        self.directory = directory
        try DirectoryBlobStore.makeDirectory(directory)
        lock = try TemporaryDirectoryLock(directory: directory) { () throws(StorageError) in
            _ = try Self.sweep(directory)
        }
    }

    /// Removes every file in the spool; returns how many. Only safe when no upload is in progress.
    @discardableResult
    public func sweep() throws(StorageError) -> Int {
        try Self.sweep(directory)
    }

    private static func sweep(_ directory: String) throws(StorageError) -> Int {
        var removed = 0
        for name in try DirectoryBlobStore.entries(of: directory) {
            if unlink(directory + "/" + name) == 0 { removed += 1 }
        }
        return removed
    }

    /// A writer for a new blob; `fileSizeLimit` bytes at most. With `segmentSize`, it also
    /// hashes every `segmentSize` bytes on their own (an object store's multipart parts), and
    /// tells `observer` of each one as soon as it is written. Without `writesBack`, the kernel is
    /// not asked to write the file to disk as it grows (a spool that is read back and removed).
    public func makeWriter(
        fileSizeLimit: Int? = nil, segmentSize: Int? = nil, observer: (any BlobWriteObserver)? = nil, writesBack: Bool = true
    ) throws(StorageError) -> BlobWriter {
        let name = TemporaryName.next()
        let path = directory + "/" + name
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            observer?.writeAbandoned()
            throw StorageError.systemCall("create tmp/\(name)")
        }
        return BlobWriter(
            descriptor: descriptor, temporaryPath: path, fileSizeLimit: fileSizeLimit, segmentSize: segmentSize, observer: observer,
            writesBack: writesBack)
    }

    /// A written blob for a synced file that is already on disk (`path`, on the spool's file
    /// system), hashed as `digest`: the spool gets a hard link of its own to it, which publishing
    /// moves into the store or removes, and `path` stays as it was whatever happens.
    public func adopt(_ path: String, size: Int, digest: SHA256Digest) throws(StorageError) -> WrittenBlob {
        let temporaryPath = directory + "/" + TemporaryName.next()
        guard link(path, temporaryPath) == 0 else { throw StorageError.systemCall("link a received file into tmp/") }
        return WrittenBlob(digest: digest, size: size, isSynced: true, temporaryPath: temporaryPath, segmentSize: nil, segmentDigests: [])
    }

    /// Removes a written blob that will not be published.
    public func discard(_ blob: WrittenBlob) {
        unlink(blob.temporaryPath)
    }
}

/// Names for temporary files: a random prefix drawn once per process and a counter, so making a
/// name costs no system call, and two processes sharing a data directory never collide.
enum TemporaryName {
    private static let prefix: String = {
        var random = SystemRandomNumberGenerator()
        return String(random.next() as UInt64, radix: 16)
    }()
    private static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        let number = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return "\(prefix)-\(String(number, radix: 16)).part"
    }
}
