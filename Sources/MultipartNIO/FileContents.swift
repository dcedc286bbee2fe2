public import Multipart
public import NIOCore
import NIOConcurrencyHelpers
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension MultipartFormPart {
    /// A file part whose data is read from `path` on disk, in `chunkSize` pieces, only as fast as
    /// the body is consumed. The file is opened when the part is reached; reads run on NIO's
    /// blocking-I/O thread pool.
    public static func file(
        _ name: String, path: String, filename: String, contentType: String = "application/octet-stream", chunkSize: Int = 64 * 1024
    ) -> MultipartFormPart {
        MultipartFormPart(
            name: name, filename: filename, contentType: contentType,
            content: .stream {
                FileContents(path: path, chunkSize: chunkSize)
            })
    }
}

/// The bytes of a file as an async sequence of byte arrays (``FileBuffers`` copied out, for
/// ``MultipartBody``).
public struct FileContents: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Failure = any Error

    /// A failure to open or read the file.
    public struct ReadError: Error, CustomStringConvertible {
        public var path: String
        public var errno: Int32
        public var description: String { "cannot read \(path): \(String(cString: strerror(errno)))" }
    }

    public let path: String
    public let chunkSize: Int

    public init(path: String, chunkSize: Int = 64 * 1024) {
        self.path = path
        self.chunkSize = chunkSize
    }

    public func makeAsyncIterator() -> Iterator { Iterator(buffers: FileBuffers(path: path, chunkSize: chunkSize).makeAsyncIterator()) }

    public struct Iterator: AsyncIteratorProtocol {
        var buffers: FileBuffers.Iterator

        public mutating func next() async throws -> [UInt8]? {
            try await buffers.next().map { Array($0.readableBytesView) }
        }
    }
}

/// The bytes of a file (or of a byte range in it) as an async sequence of ByteBuffers, read on
/// NIO's blocking-I/O thread pool only as fast as they are consumed. The file is opened on the
/// first read and closed at its end, or when the iterator goes away (a consumer may stop early:
/// nothing leaks).
public struct FileBuffers: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    public typealias Failure = any Error

    public let path: String
    /// The bytes to read; nil for the whole file.
    public let range: Range<Int>?
    public let chunkSize: Int

    public init(path: String, range: Range<Int>? = nil, chunkSize: Int = 256 * 1024) {
        self.path = path
        self.range = range
        self.chunkSize = chunkSize
    }

    public func makeAsyncIterator() -> Iterator { Iterator(file: OpenFile(path: path, range: range), chunkSize: chunkSize) }

    public struct Iterator: AsyncIteratorProtocol {
        fileprivate let file: OpenFile
        let chunkSize: Int

        public mutating func next() async throws -> ByteBuffer? {
            let file = self.file
            let chunkSize = self.chunkSize
            return try await NIOThreadPool.singleton.runIfActive { try file.read(upTo: chunkSize) }
        }
    }
}

/// A file descriptor opened on first read and closed at the end of the file or when the last
/// iterator holding it goes away, whichever comes first.
private final class OpenFile: Sendable {
    private let path: String
    private let end: Int?
    /// The descriptor once opened (-1 once closed) and the offset of the next read.
    private let state: NIOLockedValueBox<(descriptor: Int32?, offset: Int)>

    init(path: String, range: Range<Int>?) {
        self.path = path
        end = range?.upperBound
        state = NIOLockedValueBox((nil, range?.lowerBound ?? 0))
    }

    deinit {
        state.withLockedValue { state in
            if let open = state.descriptor, open >= 0 { close(open) }
        }
    }

    /// The next bytes, or `nil` at the end of the file. Blocking: call on a thread pool.
    func read(upTo count: Int) throws -> ByteBuffer? {
        try state.withLockedValue { state -> ByteBuffer? in
            if state.descriptor == nil {
                let opened = open(path, O_RDONLY | O_CLOEXEC)
                guard opened >= 0 else { throw FileContents.ReadError(path: path, errno: errno) }
                state.descriptor = opened
            }
            guard let open = state.descriptor, open >= 0 else { return nil }
            let wanted = min(count, (end ?? Int.max) - state.offset)
            var buffer = ByteBufferAllocator().buffer(capacity: max(wanted, 0))
            while wanted > 0 {
                var result = 0
                var failure: Int32 = 0
                let offset = state.offset
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { bytes in
                    result = pread(open, bytes.baseAddress, wanted, off_t(offset))
                    if result < 0 { failure = errno }
                    return max(result, 0)
                }
                if result < 0 && failure == EINTR { continue }
                if result < 0 { throw FileContents.ReadError(path: path, errno: failure) }
                if result == 0 { break }
                state.offset += result
                return buffer
            }
            close(open)
            state.descriptor = -1
            return nil
        }
    }
}
