public import Ingest
import NIOCore
import S3

/// How a blob is kept: one object at `blobs/<sha256>`, or a stream named by a link.
enum StoredBlobForm: Sendable, Hashable {
    case whole(size: Int)
    case stream(id: String, size: Int)

    var size: Int {
        switch self {
        case .whole(let size), .stream(_, let size): return size
        }
    }
}

extension S3BlobStore {
    /// How `sha256` is kept, if it is: a HEAD of `blobs/<sha256>`, then a listing of its links
    /// (the first whose stream exists; several only if two nodes stored equal content at once).
    func storedForm(of sha256: String) async throws(S3Error) -> StoredBlobForm? {
        if let whole = try await client.headObject(key: layout.blob(sha256)) { return .whole(size: whole.size) }
        return try await linkedStream(of: sha256)
    }

    /// The stream holding `sha256`, if a link names one that exists.
    func linkedStream(of sha256: String) async throws(S3Error) -> StoredBlobForm? {
        for link in try await client.listObjects(prefix: layout.links(of: sha256)) {
            guard let (_, id) = layout.parseLink(link.key) else { continue }
            if let stream = try await client.headObject(key: layout.stream(id)) { return .stream(id: id, size: stream.size) }
        }
        return nil
    }

    public func contains(_ sha256: String) async throws(StorageError) -> Bool {
        guard BlobDigest.isValid(sha256) else { return false }
        do throws(S3Error) {
            return try await storedForm(of: sha256) != nil
        } catch {
            throw Self.storageError(error, operation: "look up blob \(sha256)")
        }
    }

    public func read(_ sha256: String, range: Range<Int>?) async throws(StorageError) -> BlobContent? {
        guard BlobDigest.isValid(sha256) else { return nil }
        do throws(S3Error) {
            // Most blobs are whole objects: one GET, and a stream only if there is none.
            var download = try await client.getObject(key: layout.blob(sha256), range: range)
            if download == nil, case .stream(let id, _)? = try await linkedStream(of: sha256) {
                download = try await client.getObject(key: layout.stream(id), range: range)
            }
            guard let download else { return nil }
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
        let writer = try spool.makeWriter(writesBack: false)
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
}
