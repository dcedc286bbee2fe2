import Foundation
import Ingest

/// A directory blob store whose disk fails to sync one content: publishing it fails as an fsync
/// with EIO does (the spooled file removed, nothing stored); everything else is the real store.
struct BlobStoreFailingToSync: BlobStore {
    let base: DirectoryBlobStore
    /// The digest whose blob never becomes durable.
    let failing: String

    var spool: BlobSpool { base.spool }

    func publish(_ blobs: [WrittenBlob]) async throws(StorageError) -> [StoredBlob] {
        guard blobs.contains(where: { $0.sha256 == failing }) else { return try await base.publish(blobs) }
        blobs.forEach(base.discard)
        throw StorageError(.io, operation: "fsync", errno: EIO, message: "Input/output error")
    }

    func discard(_ blob: WrittenBlob) { base.discard(blob) }
    func contains(_ sha256: String) async throws(StorageError) -> Bool { base.contains(sha256) }
    func read(_ sha256: String, range: Range<Int>?) async throws(StorageError) -> BlobContent? { try await base.read(sha256, range: range) }
    func withLocalFile<Result: Sendable>(_ sha256: String, _ body: (String) async throws -> Result) async throws -> Result {
        try await base.withLocalFile(sha256, body)
    }
    func remove(_ sha256: String) async throws(StorageError) { try base.remove(sha256) }
    func listBlobs() async throws(StorageError) -> [BlobListing] { try await base.listBlobs() }
    func sweepAbandonedWrites(olderThan age: Duration) async throws(StorageError) -> Int { try await base.sweepAbandonedWrites(olderThan: age) }
    func shutdown() async { await base.shutdown() }
}
