import Crypto
import MultipartNIO
import NIOCore

/// SHA-256 of a file's bytes, read in chunks on NIO's blocking-I/O thread pool.
public enum FileDigest {
    /// The lowercase hex SHA-256 of the file at `path` and how many bytes it had.
    public static func sha256(ofFileAt path: String, chunkLength: Int = 1 << 20) async throws -> (sha256: String, size: Int64) {
        var hasher = SHA256()
        var size: Int64 = 0
        for try await chunk in FileBuffers(path: path, chunkSize: chunkLength) {
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            size += Int64(chunk.readableBytes)
        }
        return (hex(hasher.finalize()), size)
    }

    /// Lowercase hex of a digest.
    static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The lowercase hex SHA-256 of `text`'s UTF-8.
    static func sha256(of text: String) -> String {
        hex(SHA256.hash(data: Array(text.utf8)))
    }
}
