public import Ingest
import Crypto
import MultipartNIO
public import S3

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Blobs in an S3-compatible bucket (layout: ``S3BlobLayout``).
///
/// An upload is written to the local spool first, hashed whole and in ``partSize`` segments as
/// it arrives. A blob smaller than a part is sent in one PUT at `blobs/<sha256>` when
/// ``publish(_:)`` has found no equal content stored. A larger one is sent while it arrives: its
/// first full segment begins a multipart upload to `streams/<random id>`, and every segment is
/// sent as a part as soon as it is written (``StreamedBlobUpload``), each with its SHA-256 for
/// the service to verify (`x-amz-checksum-sha256`). ``publish(_:)`` then sends the last part,
/// completes the upload and links the digest to the stream (`links/<sha256>.<id>`), or aborts it
/// when equal content is already stored. It returns once the service has acknowledged every
/// blob; an upload that fails is aborted in the store, and what a crash leaves is cleaned up by
/// ``sweepAbandonedWrites(olderThan:)``.
public struct S3BlobStore: BlobStore {
    public let client: S3Client
    public let spool: BlobSpool
    public let layout: S3BlobLayout
    /// Bytes per multipart part, and the most sent in one PUT.
    public let partSize: Int
    /// Parts in flight at once for one blob, and blobs published at once.
    public let concurrency: Int
    /// How long a multipart upload to `streams/` may stay unfinished before a sweep aborts it: as
    /// long as the slowest client may take to send a blob, not just the grace period.
    public let longestUpload: Duration
    let streamed = StreamedBlobUploads()

    /// A store in `client`'s bucket, spooling uploads in `spoolDirectory`.
    public init(
        client: S3Client, spoolDirectory: String, partSize: Int = 16 << 20, concurrency: Int = 4,
        longestUpload: Duration = .seconds(24 * 3600)
    ) throws(StorageError) {
        precondition(partSize >= 5 << 20, "S3 parts but the last are 5 MiB at least")
        self.client = client
        self.partSize = partSize
        self.concurrency = max(1, concurrency)
        self.longestUpload = longestUpload
        layout = S3BlobLayout(location: client.configuration.location)
        spool = try BlobSpool(directory: spoolDirectory)
    }

    var location: S3Location { client.configuration.location }

    /// Uploads in flight to `streams/` whose blob is not yet published or discarded.
    public var streamsInFlight: Int { streamed.count }

    public func makeWriter(fileSizeLimit: Int?) throws(StorageError) -> BlobWriter {
        let upload = StreamedBlobUpload(client: client, layout: layout, concurrency: concurrency, registry: streamed)
        // The spooled file is read back while it is in the page cache and removed: it need not reach the disk.
        return try spool.makeWriter(fileSizeLimit: fileSizeLimit, segmentSize: partSize, observer: upload, writesBack: false)
    }

    public func discard(_ blob: WrittenBlob) {
        streamed.remove(blob.temporaryPath)?.abandon()
        spool.discard(blob)
    }

    // MARK: - Writing

    public func publish(_ blobs: [WrittenBlob]) async throws(StorageError) -> [StoredBlob] {
        let uploads = blobs.map { streamed.remove($0.temporaryPath) }
        defer { for blob in blobs { spool.discard(blob) } }
        do {
            return try await withThrowingTaskGroup(of: (Int, StoredBlob).self) { group in
                var stored: [StoredBlob?] = Array(repeating: nil, count: blobs.count)
                for (index, blob) in blobs.enumerated() {
                    if index >= concurrency, let (done, result) = try await group.next() { stored[done] = result }
                    let upload = uploads[index]
                    group.addTask {
                        if let upload { return (index, try await publish(blob, streamedBy: upload)) }
                        return (index, try await publish(blob))
                    }
                }
                for try await (done, result) in group { stored[done] = result }
                return stored.map { $0! }
            }
        } catch {
            // The streams of blobs not reached are aborted (a no-op for those already finished).
            for upload in uploads { upload?.abandon() }
            if let error = error as? S3Error { throw Self.storageError(error, operation: "store a blob") }
            if let error = error as? StorageError { throw error }
            throw StorageError(.io, operation: "store a blob", message: "storing a blob failed: \(error)")
        }
    }

    /// A blob that began no stream (smaller than a part): one checked PUT, unless stored.
    private func publish(_ blob: WrittenBlob) async throws -> StoredBlob {
        if try await isStored(blob) {
            return StoredBlob(sha256: blob.sha256, size: blob.size, wasAlreadyStored: true)
        }
        try await client.putObject(key: layout.blob(blob.sha256), payload: Self.payload(blob.temporaryPath, 0..<blob.size, sha256: blob.digest, client: client))
        return StoredBlob(sha256: blob.sha256, size: blob.size, wasAlreadyStored: false)
    }

    /// A blob whose parts went out while it arrived: completed and linked under its digest, or
    /// aborted if equal content is stored. The stream is claimed meanwhile (``S3BlobLayout``).
    private func publish(_ blob: WrittenBlob, streamedBy upload: StreamedBlobUpload) async throws -> StoredBlob {
        if try await isStored(blob) {
            await upload.abort()
            return StoredBlob(sha256: blob.sha256, size: blob.size, wasAlreadyStored: true)
        }
        let claim = layout.claim(upload.id)
        do {
            try await client.putObject(key: claim, payload: S3Client.Payload([]))
        } catch {
            await upload.abort()
            throw error
        }
        do {
            try await upload.complete(blob)
        } catch {
            try? await client.deleteObject(key: claim)
            throw error
        }
        let link = layout.link(blob.sha256, stream: upload.id)
        do {
            try await client.putObject(key: link, payload: S3Client.Payload([]))
            // A sweep that took the stream for an orphan before the link was seen would have removed it.
            guard let stream = try await client.headObject(key: upload.key), stream.size == blob.size else {
                throw S3Error(.unavailable, "stream \(upload.id) of blob \(blob.sha256) was removed while it was linked")
            }
        } catch {
            try? await client.deleteObject(key: link)
            try? await client.deleteObject(key: upload.key)
            try? await client.deleteObject(key: claim)
            throw error
        }
        // A claim left behind is harmless: it only delays a sweep, which removes it in time.
        try? await client.deleteObject(key: claim)
        return StoredBlob(sha256: blob.sha256, size: blob.size, wasAlreadyStored: false)
    }

    /// Whether `blob`'s content is stored already, in either form.
    private func isStored(_ blob: WrittenBlob) async throws(S3Error) -> Bool {
        guard let form = try await storedForm(of: blob.sha256) else { return false }
        return form.size == blob.size
    }

    static func payload(_ path: String, _ range: Range<Int>, sha256: SHA256Digest, client: S3Client) -> S3Client.Payload {
        S3Client.Payload(length: range.count, sha256: sha256) {
            client.pacedBody(FileBuffers(path: path, range: range, chunkSize: 256 << 10), length: range.count)
        }
    }

    /// Returns once the uploads of discarded blobs are aborted in the store (or failed to be).
    public func waitForAbortedUploads() async {
        await streamed.waitForAborts()
    }

    public func shutdown() async {
        await streamed.waitForAborts()
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
