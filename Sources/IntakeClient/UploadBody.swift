public import NIOCore
import MultipartNIO

/// A request body as ByteBuffers: the request's head bytes, the file read from disk in chunks
/// (only as fast as they are sent), then its tail. Fails if the file no longer has the size the
/// body length was computed from, so a file changed mid-upload is never sent cut or padded.
public struct UploadBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    public typealias Failure = any Error

    let request: UploadRequest
    let progress: ByteCounter?
    let rateLimit: RateLimit?
    let chunkLength: Int

    /// The body of `request`; the file bytes read are added to `progress`, and sent no faster
    /// than `rateLimit`.
    public init(_ request: UploadRequest, progress: ByteCounter? = nil, rateLimit: RateLimit? = nil, chunkLength: Int = 256 * 1024) {
        self.request = request
        self.progress = progress
        self.rateLimit = rateLimit
        self.chunkLength = chunkLength
    }

    public func makeAsyncIterator() -> Iterator { Iterator(body: self) }

    public struct Iterator: AsyncIteratorProtocol {
        private enum Stage { case head, file, tail, done }
        private let body: UploadBody
        private var stage = Stage.head
        private var chunks: FileBuffers.AsyncIterator?
        private var sent: Int64 = 0

        init(body: UploadBody) { self.body = body }

        public mutating func next() async throws -> ByteBuffer? {
            while true {
                switch stage {
                case .head:
                    stage = .file
                    return ByteBuffer(bytes: body.request.head)
                case .file:
                    if chunks == nil {
                        chunks = FileBuffers(path: body.request.file.path, chunkSize: body.chunkLength).makeAsyncIterator()
                    }
                    if let chunk = try await chunks?.next() {
                        try await body.rateLimit?.take(chunk.readableBytes)
                        sent += Int64(chunk.readableBytes)
                        body.progress?.add(chunk.readableBytes)
                        guard sent <= body.request.file.size else { throw changed }
                        return chunk
                    }
                    chunks = nil
                    guard sent == body.request.file.size else { throw changed }
                    stage = .tail
                case .tail:
                    stage = .done
                    return ByteBuffer(bytes: body.request.tail)
                case .done:
                    return nil
                }
            }
        }

        private var changed: FileChangedError {
            FileChangedError(path: body.request.file.path, expected: body.request.file.size)
        }
    }
}

/// The file's size changed between hashing and uploading it.
public struct FileChangedError: Error, CustomStringConvertible {
    public var path: String
    public var expected: Int64
    public var description: String { "\(path) changed while it was being uploaded (it had \(expected) bytes); run again to upload the new content" }
}
