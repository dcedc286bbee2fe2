/// One part of a form to encode with ``MultipartBody``.
public struct MultipartFormPart: Sendable {
    /// Where a part's data comes from.
    public enum Content: Sendable {
        /// Data in memory.
        case bytes([UInt8])
        /// Data pulled from an async sequence, made when the part is reached (so a file is
        /// opened only when its turn comes).
        case stream(@Sendable () -> any AsyncSequence<[UInt8], any Error>)
    }

    public var name: String
    public var filename: String?
    public var contentType: String?
    public var headers: [MultipartHeader]
    public var content: Content

    public init(name: String, filename: String? = nil, contentType: String? = nil, headers: [MultipartHeader] = [], content: Content) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.headers = headers
        self.content = content
    }

    /// A text field.
    public static func field(_ name: String, _ value: String) -> MultipartFormPart {
        MultipartFormPart(name: name, content: .bytes(Array(value.utf8)))
    }
}

/// A whole multipart/form-data body as an async sequence of byte chunks, encoded part by part as
/// it is read: a file's data is pulled only as fast as the body is consumed.
public struct MultipartBody: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Failure = any Error

    /// The parts, in order.
    public let parts: [MultipartFormPart]
    private let writer: MultipartWriter

    /// A body of `parts`, with `writer`'s boundary.
    public init(parts: [MultipartFormPart], writer: MultipartWriter = MultipartWriter()) {
        self.parts = parts
        self.writer = writer
    }

    /// The Content-Type header value to send with the body.
    public var contentType: String { writer.contentType }

    public func makeAsyncIterator() -> Iterator {
        Iterator(parts: parts, writer: writer)
    }

    public struct Iterator: AsyncIteratorProtocol {
        private let parts: [MultipartFormPart]
        private var writer: MultipartWriter
        private var nextPart = 0
        private var data: (any AsyncIteratorProtocol<[UInt8], any Error>)? = nil
        private var finished = false

        init(parts: [MultipartFormPart], writer: MultipartWriter) {
            self.parts = parts
            self.writer = writer
        }

        public mutating func next() async throws -> [UInt8]? {
            while !finished {
                if var iterator = data {
                    let chunk = try await iterator.next()
                    data = iterator
                    if let chunk {
                        if chunk.isEmpty { continue }
                        return chunk
                    }
                    data = nil
                }
                guard nextPart < parts.count else {
                    finished = true
                    return writer.end()
                }
                let part = parts[nextPart]
                nextPart += 1
                let head = writer.partHead(name: part.name, filename: part.filename, contentType: part.contentType, headers: part.headers)
                switch part.content {
                case .bytes(let bytes):
                    return head + bytes
                case .stream(let makeSequence):
                    data = makeSequence().makeAsyncIterator()
                    return head
                }
            }
            return nil
        }
    }
}
