import CIngestShims
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Content-addressed storage of document bytes on local disk, the embedded default:
///
/// ```
/// ROOT/tmp/<random>.part        files being written (the spool); removed at start-up after a crash
/// ROOT/blobs/ab/cd/<sha256>     complete files, named by the SHA-256 of their content
/// ```
///
/// (``Layout/flat`` keeps every blob directly in `blobs/`, for tools that expect that shape.)
///
/// A blob is written to `tmp/`, hashed as it is written, `fsync`ed, renamed into `blobs/`, and
/// its directory `fsync`ed: once ``publish(_:)`` returns, the bytes survive a crash. Equal
/// content is stored once. Files are created `0640`, directories `0750`. No path is ever built
/// from a client's string: names are random or hex digests.
public struct DirectoryBlobStore: BlobStore {
    /// How blob files are spread over directories.
    public enum Layout: Sendable, Hashable {
        /// `blobs/ab/cd/<sha256>`: two levels of 256 directories keep every directory small.
        case sharded
        /// `blobs/<sha256>`: one directory.
        case flat
    }

    /// The data directory.
    public let root: String
    public let layout: Layout
    public let spool: BlobSpool

    var blobsDirectory: String { root + "/blobs" }

    /// Opens (creating if needed) the store at `root`, and sweeps its spool (``BlobSpool``).
    public init(root: String, layout: Layout = .sharded) throws(StorageError) {
        self.root = root
        self.layout = layout
        try Self.makeDirectory(root)
        spool = try BlobSpool(directory: root + "/tmp")
        try Self.makeDirectory(root + "/blobs")
    }

    /// Removes every file in `tmp/`; returns how many. Only safe when no upload is in progress.
    @discardableResult
    public func sweepTemporaryFiles() throws(StorageError) -> Int {
        try spool.sweep()
    }

    /// Publishes written blobs (see ``publishNow(_:)``) on a thread of their own: `fsync` and
    /// `rename` block.
    public func publish(_ blobs: [WrittenBlob]) async throws(StorageError) -> [StoredBlob] {
        try await Self.offloaded { () throws(StorageError) in try publishNow(blobs) }
    }

    /// ``BlobWriter/sync()``, then ``publishNow(_:)``: durable under its digest when this returns.
    public func commit(_ writer: BlobWriter) throws(StorageError) -> StoredBlob {
        try publishNow([try writer.sync()])[0]
    }

    /// Publishes written blobs under their digests, durably, in three steps that each wait for
    /// the disk once for all blobs: `fsync` the files not yet synced (in parallel), rename each to
    /// `blobs/ab/cd/<sha256>` (or drop it when that blob exists), `fsync` the directories that
    /// gained a name (in parallel). The blobs survive a crash once this returns. On an error, the
    /// blobs not yet renamed are removed.
    public func publishNow(_ blobs: [WrittenBlob]) throws(StorageError) -> [StoredBlob] {
        var published = 0
        do throws(StorageError) {
            try Self.concurrently(blobs.filter { !$0.isSynced }.map(\.temporaryPath)) { (path) throws(StorageError) in
                let descriptor = open(path, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else { throw StorageError.systemCall("open a temporary file to fsync it") }
                defer { close(descriptor) }
                if fsync(descriptor) != 0 { throw StorageError.systemCall("fsync a temporary file") }
            }
            var stored: [StoredBlob] = []
            var touched: Set<String> = []
            for blob in blobs {
                let destination = path(of: blob.sha256)
                if try renameIntoPlace(blob.temporaryPath, destination) {
                    touched.insert(Self.parent(of: destination))
                    stored.append(StoredBlob(sha256: blob.sha256, size: blob.size, wasAlreadyStored: false))
                } else {
                    unlink(blob.temporaryPath)
                    stored.append(StoredBlob(sha256: blob.sha256, size: blob.size, wasAlreadyStored: true))
                }
                published += 1
            }
            try Self.concurrently(Array(touched)) { (directory) throws(StorageError) in try Self.syncDirectory(directory) }
            return stored
        } catch {
            for blob in blobs[published...] { unlink(blob.temporaryPath) }
            throw error
        }
    }

    /// Renames `temporary` to `destination` unless a blob is there already (then returns false):
    /// one system call in the usual case; the shard directories are made only when the first
    /// try finds them missing.
    private func renameIntoPlace(_ temporary: String, _ destination: String) throws(StorageError) -> Bool {
        for attempt in 0..<2 {
            if intake_rename_noreplace(temporary, destination) == 0 { return true }
            switch errno {
            case EEXIST:
                return false
            case ENOENT where attempt == 0 && layout == .sharded:
                let directory = Self.parent(of: destination)
                try Self.makeDirectory(Self.parent(of: directory))
                try Self.makeDirectory(directory)
            case ENOSYS, EINVAL:
                // No atomic no-replace rename here (an old kernel, a file system without it).
                if access(destination, F_OK) == 0 { return false }
                if rename(temporary, destination) == 0 { return true }
                throw StorageError.systemCall("rename a temporary file into blobs/")
            default:
                throw StorageError.systemCall("rename a temporary file into blobs/")
            }
        }
        throw StorageError.systemCall("rename a temporary file into blobs/")
    }

    /// Runs `body` for every item on up to 16 threads; throws the first error.
    static func concurrently(_ items: [String], _ body: (String) throws(StorageError) -> Void) throws(StorageError) {
        if items.count <= 1 {
            for item in items { try body(item) }
            return
        }
        let width = min(16, items.count)
        let firstError = Mutex<StorageError?>(nil)
        withoutActuallyEscaping(body) { body in
            let work = UnsafeSendableBox(body)
            DispatchQueue.concurrentPerform(iterations: width) { worker in
                for index in stride(from: worker, to: items.count, by: width) {
                    do throws(StorageError) {
                        try work.value(items[index])
                    } catch {
                        firstError.withLock { if $0 == nil { $0 = error } }
                        return
                    }
                }
            }
        }
        if let error = firstError.withLock({ $0 }) { throw error }
    }

    /// The path of the blob with digest `sha256` (validated: never a client string).
    public func path(of sha256: String) -> String {
        precondition(BlobDigest.isValid(sha256), "a blob path is made from a SHA-256 hex digest only")
        if layout == .flat { return "\(blobsDirectory)/\(sha256)" }
        let bytes = Array(sha256.utf8)
        let first = String(decoding: bytes[0..<2], as: UTF8.self)
        let second = String(decoding: bytes[2..<4], as: UTF8.self)
        return "\(blobsDirectory)/\(first)/\(second)/\(sha256)"
    }

    /// Whether the blob `sha256` is stored.
    public func contains(_ sha256: String) -> Bool {
        BlobDigest.isValid(sha256) && access(path(of: sha256), F_OK) == 0
    }

    /// Removes the blob `sha256` (for garbage collection); missing blobs are not an error.
    public func remove(_ sha256: String) throws(StorageError) {
        guard BlobDigest.isValid(sha256) else { return }
        if unlink(path(of: sha256)) != 0 && errno != ENOENT {
            throw StorageError.systemCall("remove blob \(sha256)")
        }
    }

    /// The digests of every stored blob.
    public func allDigests() throws(StorageError) -> [String] {
        if layout == .flat { return try Self.entries(of: blobsDirectory).filter(BlobDigest.isValid) }
        var digests: [String] = []
        for first in try Self.entries(of: blobsDirectory) {
            for second in try Self.entries(of: blobsDirectory + "/" + first) {
                for name in try Self.entries(of: "\(blobsDirectory)/\(first)/\(second)") where BlobDigest.isValid(name) {
                    digests.append(name)
                }
            }
        }
        return digests
    }

    // MARK: - Disk helpers

    /// Creates `path` with mode 0750 if it does not exist, and makes the new entry durable.
    static func makeDirectory(_ path: String) throws(StorageError) {
        if mkdir(path, 0o750) == 0 {
            chmod(path, 0o750)  // whatever the umask
            try syncDirectory(parent(of: path))
        } else if errno != EEXIST {
            throw StorageError.systemCall("create directory \(path)")
        }
    }

    /// Makes the entries of directory `path` durable (`fsync` of the directory).
    public static func syncDirectory(_ path: String) throws(StorageError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StorageError.systemCall("open directory \(path)") }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 { throw StorageError.systemCall("fsync directory \(path)") }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }

    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!

    static func entries(of directory: String) throws(StorageError) -> [String] {
        guard let stream = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw StorageError.systemCall("list \(directory)")
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            // Read the name in place: a record can be shorter than `dirent`, so copying the
            // whole `d_name` array out could read past the end of the directory buffer.
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

/// Carries a non-Sendable closure into `concurrentPerform`, whose calls it makes from several
/// threads: only closures that are safe to call concurrently go in.
private struct UnsafeSendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
