public import Ingest
import Crypto
import MultipartNIO
import NIOCore
import AsyncHTTPClient
public import S3

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Blobs in an S3-compatible bucket, one object per distinct content at
/// `PREFIX/blobs/<sha256>`.
///
/// An upload is written to the local spool first, hashed whole and in ``partSize`` segments as
/// it arrives. ``publish(_:)`` asks whether the object exists (equal content is not stored
/// twice), and sends the others with their SHA-256 for the service to verify
/// (`x-amz-checksum-sha256`): in one PUT up to ``partSize``, else as a multipart upload whose
/// every part carries its own checksum, completed only when all are in (an incomplete upload is
/// invisible, and aborted on failure or by ``sweepAbandonedWrites(olderThan:)``). It returns once
/// the service has acknowledged every blob.
public struct S3BlobStore: BlobStore {
    public let client: S3Client
    public let spool: BlobSpool
    /// Bytes per multipart part, and the most sent in one PUT.
    public let partSize: Int
    /// Parts (or single blobs) in flight at once.
    public let concurrency: Int

    /// A store in `client`'s bucket, spooling uploads in `spoolDirectory`.
    public init(client: S3Client, spoolDirectory: String, partSize: Int = 16 << 20, concurrency: Int = 4) throws(StorageError) {
        precondition(partSize >= 5 << 20, "S3 parts but the last are 5 MiB at least")
        self.client = client
        self.partSize = partSize
        self.concurrency = max(1, concurrency)
        spool = try BlobSpool(directory: spoolDirectory)
    }

    var location: S3Location { client.configuration.location }

    func key(of sha256: String) -> String {
        precondition(BlobDigest.isValid(sha256), "a blob key is made from a SHA-256 hex digest only")
        return location.key("blobs/\(sha256)")
    }

    public func makeWriter(fileSizeLimit: Int?) throws(StorageError) -> BlobWriter {
        try spool.makeWriter(fileSizeLimit: fileSizeLimit, segmentSize: partSize)
    }

    // MARK: - Writing

    public func publish(_ blobs: [WrittenBlob]) async throws(StorageError) -> [StoredBlob] {
        defer { for blob in blobs { spool.discard(blob) } }
        do {
            return try await withThrowingTaskGroup(of: (Int, StoredBlob).self) { group in
                var stored: [StoredBlob?] = Array(repeating: nil, count: blobs.count)
                for (index, blob) in blobs.enumerated() {
                    if index >= concurrency, let (done, result) = try await group.next() { stored[done] = result }
                    group.addTask { (index, try await publish(blob)) }
                }
                for try await (done, result) in group { stored[done] = result }
                return stored.map { $0! }
            }
        } catch let error as S3Error {
            throw Self.storageError(error, operation: "store a blob")
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.io, operation: "store a blob", message: "storing a blob failed: \(error)")
        }
    }

    private func publish(_ blob: WrittenBlob) async throws -> StoredBlob {
        let key = key(of: blob.sha256)
        if let existing = try await client.headObject(key: key), existing.size == blob.size {
            return StoredBlob(sha256: blob.sha256, size: blob.size, wasAlreadyStored: true)
        }
        if blob.size <= partSize {
            try await client.putObject(key: key, payload: Self.payload(blob.temporaryPath, 0..<blob.size, sha256: blob.digest))
        } else {
            try await uploadInParts(blob, key: key)
        }
        return StoredBlob(sha256: blob.sha256, size: blob.size, wasAlreadyStored: false)
    }

    private func uploadInParts(_ blob: WrittenBlob, key: String) async throws {
        let ranges = stride(from: 0, to: blob.size, by: partSize).map { $0..<min($0 + partSize, blob.size) }
        // This store's writers hash every part as it arrives (makeWriter).
        precondition(blob.segmentSize == partSize && blob.segmentDigests.count == ranges.count, "a blob written by this store's writer")
        let digests = blob.segmentDigests
        let uploadID = try await client.createMultipartUpload(key: key)
        do {
            let parts = try await withThrowingTaskGroup(of: S3UploadedPart.self) { group in
                var parts: [S3UploadedPart] = []
                for (index, range) in ranges.enumerated() {
                    if index >= concurrency, let part = try await group.next() { parts.append(part) }
                    let payload = Self.payload(blob.temporaryPath, range, sha256: digests[index])
                    group.addTask { try await client.uploadPart(key: key, uploadID: uploadID, number: index + 1, payload: payload) }
                }
                for try await part in group { parts.append(part) }
                return parts
            }
            try await client.completeMultipartUpload(key: key, uploadID: uploadID, parts: parts)
        } catch {
            // Best effort: what is left is aborted by the next start-up sweep.
            try? await client.abortMultipartUpload(key: key, uploadID: uploadID)
            throw error
        }
    }

    static func payload(_ path: String, _ range: Range<Int>, sha256: SHA256Digest) -> S3Client.Payload {
        S3Client.Payload(length: range.count, sha256: sha256) {
            .stream(FileBuffers(path: path, range: range, chunkSize: 256 << 10), length: .known(Int64(range.count)))
        }
    }

    // MARK: - Reading and removing

    public func contains(_ sha256: String) async throws(StorageError) -> Bool {
        guard BlobDigest.isValid(sha256) else { return false }
        do throws(S3Error) {
            return try await client.headObject(key: key(of: sha256)) != nil
        } catch {
            throw Self.storageError(error, operation: "look up blob \(sha256)")
        }
    }

    public func read(_ sha256: String, range: Range<Int>?) async throws(StorageError) -> BlobContent? {
        guard BlobDigest.isValid(sha256) else { return nil }
        do throws(S3Error) {
            guard let download = try await client.getObject(key: key(of: sha256), range: range) else { return nil }
            let served = range ?? 0..<download.objectSize
            return BlobContent(size: download.objectSize, range: served, bytes: BlobBytes(download.body))
        } catch {
            throw Self.storageError(error, operation: "read blob \(sha256)")
        }
    }

    /// Downloads the blob into the spool through a ``BlobWriter``, which hashes it on the way:
    /// a copy that is not the blob's content is refused before `body` sees it.
    public func withLocalFile<Result: Sendable>(_ sha256: String, _ body: (String) async throws -> Result) async throws -> Result {
        guard let content = try await read(sha256, range: nil) else {
            throw StorageError(.io, operation: "read blob \(sha256)", message: "blob \(sha256) is not in \(location)")
        }
        let writer = try spool.makeWriter()
        for try await buffer in content.bytes {
            try buffer.withUnsafeReadableBytes { bytes throws(StorageError) in try writer.write(bytes) }
        }
        let copy = try writer.close()
        defer { spool.discard(copy) }
        guard copy.sha256 == sha256 else {
            throw StorageError(.rejected, operation: "read blob \(sha256)", message: "the bytes \(location) sent for blob \(sha256) have SHA-256 \(copy.sha256)")
        }
        return try await body(copy.temporaryPath)
    }

    public func remove(_ sha256: String) async throws(StorageError) {
        guard BlobDigest.isValid(sha256) else { return }
        do throws(S3Error) {
            try await client.deleteObject(key: key(of: sha256))
        } catch {
            throw Self.storageError(error, operation: "remove blob \(sha256)")
        }
    }

    public func listBlobs() async throws(StorageError) -> [BlobListing] {
        let prefix = location.key("blobs/")
        do throws(S3Error) {
            return try await client.listObjects(prefix: prefix).compactMap { object in
                let name = String(object.key.dropFirst(prefix.count))
                return object.key.hasPrefix(prefix) && BlobDigest.isValid(name) ? BlobListing(sha256: name, storedAt: object.lastModified) : nil
            }
        } catch {
            throw Self.storageError(error, operation: "list blobs")
        }
    }

    /// Aborts the multipart uploads under `PREFIX/blobs/` begun more than `age` ago: a node
    /// that crashed while publishing left them.
    public func sweepAbandonedWrites(olderThan age: Duration) async throws(StorageError) -> Int {
        let cutoff = Int(time(nil)) - Int(age.components.seconds)
        do throws(S3Error) {
            var aborted = 0
            for upload in try await client.pendingUploads(prefix: location.key("blobs/")) where upload.initiated <= cutoff {
                try await client.abortMultipartUpload(key: upload.key, uploadID: upload.uploadID)
                aborted += 1
            }
            return aborted
        } catch {
            throw Self.storageError(error, operation: "abort abandoned uploads")
        }
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    static func storageError(_ error: S3Error, operation: String) -> StorageError {
        switch error.kind {
        case .unavailable, .serverError: return StorageError(.unavailable, operation: operation, message: error.message)
        case .checksumMismatch, .refused: return StorageError(.rejected, operation: operation, message: error.message)
        default: return StorageError(.io, operation: operation, message: error.message)
        }
    }
}
