import Crypto
import NIOCore
import Synchronization

/// The SHA-256 of everything read through a ``HashingBody``: a request's fingerprint for
/// `Idempotency-Key`.
final class BodyFingerprint: Sendable {
    private let hasher = Mutex(SHA256())

    func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in hasher.withLock { $0.update(bufferPointer: bytes) } }
    }

    var hex: String {
        hasher.withLock { $0 }.finalize().map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }
}

/// A request body that feeds every buffer it yields to a ``BodyFingerprint`` on the way.
struct HashingBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let fingerprint: BodyFingerprint

    struct Iterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let fingerprint: BodyFingerprint

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            fingerprint.update(buffer)
            return buffer
        }
    }

    func makeAsyncIterator() -> Iterator { Iterator(base: base.makeAsyncIterator(), fingerprint: fingerprint) }
}
