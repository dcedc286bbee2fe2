import Crypto
import Foundation
import Ingest
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The bytes of uploads sent in pieces: `DATA/resumable/<id>`, one file each, named by the
/// upload's random id (never by a client's string). An append writes at the upload's durable
/// offset (the file is first cut back to it: bytes of an append that died before it was recorded
/// go) and syncs before it returns the new offset, so an offset the server reports is on disk.
struct ResumableFiles: Sendable {
    let directory: String
    /// The SHA-256 of each upload's bytes so far, kept between its appends on this node.
    let digests = RunningDigests()

    /// The directory `DATA/resumable`, created (0750) if missing.
    init(dataDirectory: String) throws {
        directory = dataDirectory + "/resumable"
        if mkdir(directory, 0o750) != 0 && errno != EEXIST {
            throw StorageError.systemCall("create directory \(directory)")
        }
    }

    /// Whether `id` can name a file: 32 lowercase hex digits, as ``newID()`` makes.
    static func isValid(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    static func newID() -> String { RandomIdentifier.hex(32) }

    /// How many bytes an append writes before it asks the kernel to start writing them to disk:
    /// the sync that ends each piece then waits for at most this much (a piece is answered only
    /// once synced, and the client sends the next one only then).
    static let writebackInterval = 2 << 20

    func path(_ id: String) -> String {
        precondition(Self.isValid(id), "a resumable upload's file is named by its random id only")
        return "\(directory)/\(id)"
    }

    /// Creates the empty file of a new upload, durably (its directory entry synced too); the
    /// syncs wait for the disk on a dispatch thread, off the threads that run handlers.
    func create(_ id: String) async throws(StorageError) {
        let (path, directory) = (path(id), directory)
        try await DirectoryBlobStore.offloaded { () throws(StorageError) in
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
            guard descriptor >= 0 else { throw StorageError.systemCall("create a resumable upload's file") }
            defer { close(descriptor) }
            if fsync(descriptor) != 0 { throw StorageError.systemCall("fsync a resumable upload's file") }
            try DirectoryBlobStore.syncDirectory(directory)
        }
    }

    /// What an append wrote: the new durable offset, why it stopped early if it did, the
    /// digest of the bytes it wrote when one was asked for, and the running SHA-256 of the
    /// whole upload it was given, over the bytes it wrote too.
    struct Appended {
        var offset: Int64
        var failure: (any Error)?
        var digest: [UInt8]?
        var running: SHA256?
    }

    /// A digest tus's checksum extension names (`Upload-Checksum: sha256 <base64>`).
    enum ChecksumAlgorithm: String, CaseIterable {
        case sha1, sha256
    }

    /// Appends the bytes of `body` at `offset`, at most `limit` bytes (more is an error), then
    /// syncs. Whatever happens to the body (the client goes away, too many bytes), the bytes that
    /// arrived are synced and counted in the returned offset; a disk error is thrown.
    ///
    /// `beforeWrite` runs before each piece of the body is written (the route renews its claim on
    /// the upload there); when it throws, nothing more is written and its error is the failure.
    ///
    /// `running` is the SHA-256 of the upload's first `offset` bytes, when this node has it
    /// (``RunningDigests``): it goes on over the bytes written, so that completion need not read
    /// the file again.
    ///
    /// With `checkpointEvery`, each time that many more bytes are in, they are synced and
    /// `checkpoint` is told the offset they reach (the route records it: a long append cut by a
    /// crash keeps what it had synced); when it throws, nothing more is written. No checkpoint is
    /// made where the body is known to end (`bodyLength`): the append's own sync follows at once.
    func append(
        _ id: String, at offset: Int64, limit: Int64?, checksum: ChecksumAlgorithm? = nil, running: SHA256? = nil,
        body: some AsyncSequence<ByteBuffer, any Error>, beforeWrite: () async throws -> Void = {},
        checkpointEvery: Int64? = nil, bodyLength: Int64? = nil, checkpoint: (Int64) async throws -> Void = { _ in }
    ) async throws(StorageError) -> Appended {
        var running = running
        var sha1 = checksum == .sha1 ? Insecure.SHA1() : nil
        var sha256 = checksum == .sha256 ? SHA256() : nil
        let descriptor = open(path(id), O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StorageError.systemCall("open a resumable upload's file") }
        defer { close(descriptor) }
        if ftruncate(descriptor, off_t(offset)) != 0 { throw StorageError.systemCall("cut a resumable upload's file back to its offset") }
        var position = offset
        var unflushed = 0
        var checkpointed = offset
        var failure: (any Error)?
        do {
            for try await buffer in body {
                if let limit, position - offset + Int64(buffer.readableBytes) > limit {
                    failure = ResumableAppendTooLong(limit: limit)
                    break
                }
                try await beforeWrite()
                try buffer.withUnsafeReadableBytes { (bytes) throws(StorageError) in
                    var written = 0
                    while written < bytes.count {
                        let count = pwrite(descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(position) + off_t(written))
                        if count < 0 {
                            if errno == EINTR { continue }
                            throw StorageError.systemCall("write a resumable upload's file")
                        }
                        written += count
                    }
                }
                buffer.withUnsafeReadableBytes { bytes in
                    sha1?.update(bufferPointer: bytes)
                    sha256?.update(bufferPointer: bytes)
                    running?.update(bufferPointer: bytes)
                }
                position += Int64(buffer.readableBytes)
                // The disk writes as the bytes come, so the sync at the end waits for little.
                unflushed += buffer.readableBytes
                if unflushed >= Self.writebackInterval {
                    BlobWriter.startWriteback(descriptor, upTo: Int(position))
                    unflushed = 0
                }
                if let checkpointEvery, position - checkpointed >= checkpointEvery, bodyLength.map({ position < offset + $0 }) ?? true {
                    try await DirectoryBlobStore.offloaded { () throws(StorageError) in
                        if fsync(descriptor) != 0 { throw StorageError.systemCall("fsync a resumable upload's file") }
                    }
                    try await checkpoint(position)
                    checkpointed = position
                }
            }
        } catch let error as StorageError {
            throw error
        } catch {
            failure = error
        }
        // The sync waits for the disk: on a dispatch thread, off the threads that run handlers.
        try await DirectoryBlobStore.offloaded { () throws(StorageError) in
            if fsync(descriptor) != 0 { throw StorageError.systemCall("fsync a resumable upload's file") }
        }
        let digest = sha1.map { Array($0.finalize()) } ?? sha256.map { Array($0.finalize()) }
        return Appended(offset: position, failure: failure, digest: digest, running: running)
    }

    /// Removes the file of `id` and its running digest; one already gone is not an error.
    func remove(_ id: String) {
        guard Self.isValid(id) else { return }
        digests.forget(id)
        unlink(path(id))
    }
}

/// An append that brought more bytes than the upload has room for.
struct ResumableAppendTooLong: Error {
    var limit: Int64
}
