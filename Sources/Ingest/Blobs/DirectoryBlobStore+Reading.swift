import Dispatch
import MultipartNIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension DirectoryBlobStore {
    public func read(_ sha256: String, range: Range<Int>?) async throws(StorageError) -> BlobContent? {
        guard BlobDigest.isValid(sha256) else { return nil }
        let path = path(of: sha256)
        let found = try await Self.offloaded { () throws(StorageError) -> Int? in
            var info = stat()
            guard stat(path, &info) == 0 else {
                if errno == ENOENT { return nil }
                throw StorageError.systemCall("stat blob \(sha256)")
            }
            return Int(info.st_size)
        }
        guard let size = found else { return nil }
        let wanted = range ?? 0..<size
        guard wanted.lowerBound >= 0, wanted.upperBound <= size else {
            throw StorageError(.io, operation: "read blob \(sha256)", message: "bytes \(wanted) are not within the \(size) bytes of blob \(sha256)")
        }
        return BlobContent(size: size, range: wanted, bytes: BlobBytes(FileBuffers(path: path, range: wanted)))
    }

    public func withLocalFile<Result: Sendable>(_ sha256: String, _ body: (String) async throws -> Result) async throws -> Result {
        try await body(path(of: sha256))
    }

    public func listBlobs() async throws(StorageError) -> [BlobListing] {
        try await Self.offloaded { () throws(StorageError) in
            try allDigests().compactMap { digest in
                var info = stat()
                guard stat(path(of: digest), &info) == 0 else { return nil }
                #if os(Linux)
                    return BlobListing(sha256: digest, storedAt: Int(info.st_mtim.tv_sec))
                #else
                    return BlobListing(sha256: digest, storedAt: Int(info.st_mtimespec.tv_sec))
                #endif
            }
        }
    }

    /// Nothing to do: a publish cut short leaves only spooled files, which the spool sweeps.
    public func sweepAbandonedWrites(olderThan age: Duration) async throws(StorageError) -> Int { 0 }

    public func shutdown() async {}

    /// Runs blocking disk work on a dispatch thread, off the cooperative pool.
    public static func offloaded<Value: Sendable>(_ work: @escaping @Sendable () throws(StorageError) -> Value) async throws(StorageError) -> Value {
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, StorageError>, Never>) in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(StorageError) in try work() })
            }
        }
        return try outcome.get()
    }
}
