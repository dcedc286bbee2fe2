import CIngestShims
public import Crypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

#if canImport(Glibc)
    private let systemWrite = Glibc.write
    private let systemClose = Glibc.close
#elseif canImport(Musl)
    private let systemWrite = Musl.write
    private let systemClose = Musl.close
#elseif canImport(Darwin)
    private let systemWrite = Darwin.write
    private let systemClose = Darwin.close
#endif

/// A blob as stored: its digest and size.
public struct StoredBlob: Sendable, Hashable {
    /// The SHA-256 of the content, 64 lowercase hex digits.
    public var sha256: String
    public var size: Int
    /// Whether equal content was already stored (this write was deduplicated).
    public var wasAlreadyStored: Bool

    public init(sha256: String, size: Int, wasAlreadyStored: Bool) {
        self.sha256 = sha256
        self.size = size
        self.wasAlreadyStored = wasAlreadyStored
    }
}

/// A blob fully written to `tmp/` under a temporary name, not yet published under its digest.
/// Publish it with ``BlobStore/publish(_:)`` (which makes it durable first if it is not yet) or
/// remove it with ``BlobStore/discard(_:)``: an upload writes all its files, then publishes them
/// together once the body is good.
public struct WrittenBlob: Sendable, Hashable {
    /// The SHA-256 of the content.
    public var digest: SHA256Digest
    /// ``digest`` as 64 lowercase hex digits, the blob's name.
    public var sha256: String { digest.lowercaseHex }
    public var size: Int
    /// Whether the bytes were already `fsync`ed.
    public var isSynced: Bool
    /// The spooled file.
    public var temporaryPath: String
    /// The size of the segments hashed on their own, if the writer was asked to
    /// (``BlobSpool/makeWriter(fileSizeLimit:segmentSize:)``), and their digests in order.
    public var segmentSize: Int?
    public var segmentDigests: [SHA256Digest]
}

/// A full segment of a blob being written (``BlobSpool/makeWriter(fileSizeLimit:segmentSize:observer:)``):
/// which bytes of the spooled file it is, and their SHA-256.
public struct BlobSegment: Sendable, Hashable {
    /// Its place among the blob's segments, from 0.
    public var index: Int
    /// Its bytes in the blob, and in the file at ``path``.
    public var range: Range<Int>
    public var sha256: SHA256Digest
    /// The spooled file.
    public var path: String

    public init(index: Int, range: Range<Int>, sha256: SHA256Digest, path: String) {
        self.index = index
        self.range = range
        self.sha256 = sha256
        self.path = path
    }
}

/// Follows a blob while it is written, so a store can send its segments on before the upload
/// ends (an object store's multipart upload).
public protocol BlobWriteObserver: Sendable {
    /// A full segment is in the spooled file; called on the writer's task, so it must return quickly.
    func segmentWritten(_ segment: BlobSegment)
    /// The writer was discarded, failed or dropped before it was closed: the blob will not be published.
    func writeAbandoned()
}

/// Writes one blob: bytes go to a temporary file as they arrive (no copy beyond the kernel's),
/// hashed on the way. ``sync()`` makes them durable; ``close()`` leaves that to the publish. A
/// writer that is dropped before either removes its temporary file.
///
/// A class, used by one task at a time, so that an upload can keep it across suspension points.
public final class BlobWriter {
    private let descriptor: Int32
    private let temporaryPath: String
    private let fileSizeLimit: Int?
    private var hasher = SHA256()
    private let segmentSize: Int?
    private var segmentHasher = SHA256()
    private var segmentFill = 0
    private var segmentDigests: [SHA256Digest] = []
    /// Told of each full segment once its bytes are in the file.
    private let observer: (any BlobWriteObserver)?
    /// Whether the file is to become the blob (written back as it grows), or is only a spool the
    /// bytes are read back from and removed (an object store's), which need not reach the disk.
    private let writesBack: Bool
    private var segmentsReported = 0
    private var finished = false
    /// Bytes written so far.
    public private(set) var size = 0
    /// Bytes written since writeback was last started.
    private var unflushed = 0

    /// Start the kernel writing back every this many bytes, so the final `fsync` has little left
    /// to do and hashing overlaps with the disk.
    public static let writebackInterval = 8 << 20

    init(
        descriptor: Int32, temporaryPath: String, fileSizeLimit: Int?, segmentSize: Int?, observer: (any BlobWriteObserver)?,
        writesBack: Bool
    ) {
        precondition(segmentSize.map { $0 > 0 } ?? true, "segments have bytes")
        precondition(observer == nil || segmentSize != nil, "an observer is told of segments")
        self.segmentSize = segmentSize
        self.observer = observer
        self.writesBack = writesBack
        self.descriptor = descriptor
        self.temporaryPath = temporaryPath
        self.fileSizeLimit = fileSizeLimit
    }

    deinit {
        if !finished {
            _ = systemClose(descriptor)
            unlink(temporaryPath)
            observer?.writeAbandoned()
        }
    }

    /// Appends `bytes`, hashing them. Throws ``StorageError/Code/fileTooLarge`` past the limit
    /// (nothing of the excess is written) and ``StorageError/Code/diskFull`` when the disk is.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        guard !bytes.isEmpty else { return }
        if let fileSizeLimit, size + bytes.count > fileSizeLimit {
            throw StorageError(.fileTooLarge, operation: "write", message: "the file is larger than the limit of \(fileSizeLimit) bytes")
        }
        hasher.update(bufferPointer: bytes)
        if let segmentSize { hashSegments(bytes, segmentSize: segmentSize) }
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
        if let observer, let segmentSize { reportSegments(to: observer, segmentSize: segmentSize) }
        unflushed += bytes.count
        if writesBack && unflushed >= Self.writebackInterval {
            Self.startWriteback(descriptor, upTo: size)
            unflushed = 0
        }
    }

    private func hashSegments(_ bytes: UnsafeRawBufferPointer, segmentSize: Int) {
        var rest = bytes[...]
        while !rest.isEmpty {
            let taken = min(rest.count, segmentSize - segmentFill)
            segmentHasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: rest.prefix(taken)))
            segmentFill += taken
            rest = rest.dropFirst(taken)
            if segmentFill == segmentSize {
                segmentDigests.append(segmentHasher.finalize())
                segmentHasher = SHA256()
                segmentFill = 0
            }
        }
    }

    /// Tells `observer` of the segments completed by the last write, now that their bytes are
    /// in the file.
    private func reportSegments(to observer: any BlobWriteObserver, segmentSize: Int) {
        while segmentsReported < segmentDigests.count {
            let start = segmentsReported * segmentSize
            observer.segmentWritten(
                BlobSegment(
                    index: segmentsReported, range: start..<start + segmentSize, sha256: segmentDigests[segmentsReported],
                    path: temporaryPath))
            segmentsReported += 1
        }
    }

    /// Makes the bytes durable (`fsync`, `close`) and hands the temporary file over to the caller.
    public func sync() throws(StorageError) -> WrittenBlob {
        try finish(synchronously: true)
    }

    /// Closes the file without waiting for the disk, having asked the kernel to start writing it
    /// back; ``BlobStore/publish(_:)`` then `fsync`s many such files at once, which costs one
    /// disk round trip for all of them rather than one each.
    public func close() throws(StorageError) -> WrittenBlob {
        try finish(synchronously: false)
    }

    private func finish(synchronously: Bool) throws(StorageError) -> WrittenBlob {
        precondition(!finished, "a blob writer is finished once")
        finished = true
        let digest = hasher.finalize()
        if segmentSize != nil && segmentFill > 0 { segmentDigests.append(segmentHasher.finalize()) }
        do throws(StorageError) {
            if synchronously {
                if fsync(descriptor) != 0 { throw StorageError.systemCall("fsync \(shortPath)") }
            } else if writesBack {
                Self.startWriteback(descriptor, upTo: size)
            }
            if systemClose(descriptor) != 0 { throw StorageError.systemCall("close \(shortPath)") }
        } catch {
            unlink(temporaryPath)
            observer?.writeAbandoned()
            throw error
        }
        return WrittenBlob(
            digest: digest, size: size, isSynced: synchronously, temporaryPath: temporaryPath,
            segmentSize: segmentSize, segmentDigests: segmentDigests)
    }

    /// Removes the temporary file now (dropping the writer does too).
    public func discard() {
        guard !finished else { return }
        finished = true
        _ = systemClose(descriptor)
        unlink(temporaryPath)
        observer?.writeAbandoned()
    }

    private var shortPath: String { "tmp/" + (temporaryPath.split(separator: "/").last.map(String.init) ?? "") }

    /// Asks the kernel to start writing the first `size` bytes of the file open as `descriptor`
    /// to disk, without waiting (Linux `sync_file_range`; nothing elsewhere): the `fsync` that
    /// ends a long write then has little left to wait for.
    public static func startWriteback(_ descriptor: Int32, upTo size: Int) {
        _ = intake_start_writeback(descriptor, 0, Int64(size))
    }
}
