import CIngestShims
import Crypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Musl)
private let systemWrite = Musl.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

/// A blob as stored: its digest, size and path.
public struct StoredBlob: Sendable, Hashable {
    /// The SHA-256 of the content, 64 lowercase hex digits.
    public var sha256: String
    public var size: Int
    public var path: String
    /// Whether equal content was already stored (this write was deduplicated).
    public var wasAlreadyStored: Bool
}

/// Writes one blob: bytes go to a temporary file as they arrive (no copy beyond the kernel's),
/// hashed on the way. ``commit()`` makes it durable under its digest; ``discard()`` (or dropping
/// the writer) removes the temporary file.
public struct BlobWriter: ~Copyable {
    private let store: BlobStore
    private let descriptor: Int32
    private let temporaryPath: String
    private let fileSizeLimit: Int?
    private var hasher = SHA256()
    private var finished = false
    /// Bytes written so far.
    public private(set) var size = 0
    /// Bytes written since writeback was last started.
    private var unflushed = 0

    /// Start the kernel writing back every this many bytes, so the final `fsync` has little left
    /// to do and hashing overlaps with the disk.
    private static let writebackInterval = 8 << 20

    init(store: BlobStore, descriptor: Int32, temporaryPath: String, fileSizeLimit: Int?) {
        self.store = store
        self.descriptor = descriptor
        self.temporaryPath = temporaryPath
        self.fileSizeLimit = fileSizeLimit
    }

    deinit {
        if !finished {
            close(descriptor)
            unlink(temporaryPath)
        }
    }

    /// Appends `bytes`, hashing them. Throws ``StorageError/Code/fileTooLarge`` past the limit
    /// (nothing of the excess is written) and ``StorageError/Code/diskFull`` when the disk is.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        guard !bytes.isEmpty else { return }
        if let fileSizeLimit, size + bytes.count > fileSizeLimit {
            throw StorageError(.fileTooLarge, operation: "write", message: "the file is larger than the limit of \(fileSizeLimit) bytes")
        }
        hasher.update(bufferPointer: bytes)
        var written = 0
        while written < bytes.count {
            let result = systemWrite(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                throw StorageError.systemCall("write \(shortPath)")
            }
            written += result
        }
        size += bytes.count
        unflushed += bytes.count
        if unflushed >= Self.writebackInterval {
            Self.startWriteback(descriptor, upTo: size)
            unflushed = 0
        }
    }

    /// Makes the blob durable: `fsync` the file, rename it to `blobs/ab/cd/<sha256>` (or drop it
    /// when that blob exists), `fsync` the directory.
    public consuming func commit() throws(StorageError) -> StoredBlob {
        finished = true
        let digest = hasher.finalize().map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
        do throws(StorageError) {
            if fsync(descriptor) != 0 { throw StorageError.systemCall("fsync \(shortPath)") }
            if close(descriptor) != 0 { throw StorageError.systemCall("close \(shortPath)") }
        } catch {
            unlink(temporaryPath)
            throw error
        }
        let destination = store.path(of: digest)
        if access(destination, F_OK) == 0 {
            unlink(temporaryPath)
            return StoredBlob(sha256: digest, size: size, path: destination, wasAlreadyStored: true)
        }
        do throws(StorageError) {
            let directory = BlobStore.parent(of: destination)
            try BlobStore.makeDirectory(BlobStore.parent(of: directory))
            try BlobStore.makeDirectory(directory)
            if rename(temporaryPath, destination) != 0 { throw StorageError.systemCall("rename \(shortPath) into blobs/") }
            try BlobStore.syncDirectory(directory)
        } catch {
            unlink(temporaryPath)
            throw error
        }
        return StoredBlob(sha256: digest, size: size, path: destination, wasAlreadyStored: false)
    }

    /// Removes the temporary file.
    public consuming func discard() {
        // deinit closes and unlinks.
    }

    private var shortPath: String { "tmp/" + (temporaryPath.split(separator: "/").last.map(String.init) ?? "") }

    private static func startWriteback(_ descriptor: Int32, upTo size: Int) {
        _ = intake_start_writeback(descriptor, 0, Int64(size))
    }
}
