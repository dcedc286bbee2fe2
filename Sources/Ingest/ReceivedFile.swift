public import Crypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file that arrived whole on local disk before it was ingested (an upload sent in pieces):
/// synced, on the same file system as the store's spool, hashed already if it was hashed as it
/// arrived. ``Ingestor/ingest(_:fields:knowledgeBase:)`` takes it as the one file of an upload.
public struct ReceivedFile: Sendable, Hashable {
    /// Where it is; it stays there (the store gets a link of its own).
    public var path: String
    public var size: Int
    /// Its SHA-256 when it was computed as the bytes arrived; computed from the file otherwise.
    public var sha256: SHA256Digest?
    /// The name of the form field it stands for (`file`).
    public var fieldName: String
    public var filename: String?
    public var declaredType: String?

    public init(path: String, size: Int, sha256: SHA256Digest?, fieldName: String = "file", filename: String?, declaredType: String?) {
        self.path = path
        self.size = size
        self.sha256 = sha256
        self.fieldName = fieldName
        self.filename = filename
        self.declaredType = declaredType
    }

    /// The first `count` bytes (fewer for a shorter file).
    func prefix(_ count: Int) throws(StorageError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StorageError.systemCall("open a received file") }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: min(count, size))
        var filled = 0
        while filled < bytes.count {
            let read = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + filled, $0.count - filled, off_t(filled)) }
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { throw StorageError.systemCall("read a received file") }
            filled += read
        }
        return bytes
    }

    /// The SHA-256 of the file's `size` bytes, read in 1 MiB blocks.
    func digest() throws(StorageError) -> SHA256Digest {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StorageError.systemCall("open a received file") }
        defer { close(descriptor) }
        var hasher = SHA256()
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var position = 0
        while position < size {
            let wanted = min(block.count, size - position)
            let read = block.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, wanted, off_t(position)) }
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { throw StorageError.systemCall("read a received file") }
            block.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0.prefix(read))) }
            position += read
        }
        return hasher.finalize()
    }
}
