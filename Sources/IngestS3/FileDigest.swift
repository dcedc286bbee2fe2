import Crypto
import NIOCore
import Ingest
import MultipartNIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// File helpers of the S3 blob store.
enum FileDigest {
    /// The SHA-256 of `range` in the file at `path` (for a blob spooled without segment digests).
    static func sha256(of path: String, range: Range<Int>) async throws -> SHA256Digest {
        var hasher = SHA256()
        for try await buffer in FileBuffers(path: path, range: range, chunkSize: 1 << 20) {
            buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        }
        return hasher.finalize()
    }

    /// Writes all of `bytes` to `descriptor`.
    static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) throws(StorageError) {
        var written = 0
        while written < bytes.count {
            let result = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                let code = errno
                throw StorageError(code == ENOSPC ? .diskFull : .io, operation: "write a local copy of a blob", errno: code,
                                   message: "writing a local copy of a blob failed: \(String(cString: strerror(code)))")
            }
            written += result
        }
    }
}
