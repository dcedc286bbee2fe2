/// Parts of a body that arrives as an `AsyncSequence` of chunks, pulled one at a time:
///
/// ```swift
/// let reader = try MultipartReader(contentType: contentType, body: request.body)
/// for try await part in reader {
///     print(part.info.name, part.info.filename ?? "-")
///     for try await data in part.body { try await file.write(data) }
/// }
/// ```
///
/// Backpressure is kept: the reader asks the body for the next chunk only when the caller asks for
/// more than the chunks read so far hold, so nothing is read ahead beyond one chunk. Moving to the
/// next part skips the rest of the current one. Part data is decoded from its
/// Content-Transfer-Encoding. After the last part the reader reads the epilogue to the end of the
/// body, and throws ``MultipartError/Code/truncatedBody`` if the close delimiter never came.
///
/// Parts and their bodies belong to one iteration: use them in the task that iterates.
public struct MultipartReader<Base: AsyncSequence>: AsyncSequence where Base.Element: MultipartChunk {
    public typealias Element = Part
    public typealias Failure = any Error

    private let base: Base
    private let parser: MultipartParser

    /// A reader for a body whose Content-Type header value is `contentType`.
    public init(contentType: String, body: Base, limits: MultipartLimits = MultipartLimits(), options: MultipartParser.Options = MultipartParser.Options()) throws(MultipartError) {
        self.init(parser: try MultipartParser(contentType: contentType, limits: limits, options: options), body: body)
    }

    /// A reader that parses `body` with `parser` (made with the boundary, limits and options you want).
    public init(parser: MultipartParser, body: Base) {
        self.base = body
        self.parser = parser
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(state: ReaderState(parser: parser, iterator: base.makeAsyncIterator()))
    }

    /// One part: its headers, and its data as an async sequence.
    public struct Part {
        /// The part's headers and what they say.
        public let info: MultipartPart
        /// The part's data, decoded, in slices of the body's chunks.
        public let body: Body
    }

    /// A part's data. Iterate it once, before moving to the next part.
    public struct Body: AsyncSequence {
        public typealias Element = Base.Element.Slice
        public typealias Failure = any Error

        fileprivate let state: ReaderState<Base>
        fileprivate let index: Int

        public func makeAsyncIterator() -> Iterator { Iterator(state: state, index: index) }

        public struct Iterator: AsyncIteratorProtocol {
            fileprivate let state: ReaderState<Base>
            fileprivate let index: Int

            public mutating func next() async throws -> Base.Element.Slice? {
                try await state.nextData(of: index, isolation: nil)
            }

            public mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> Base.Element.Slice? {
                try await state.nextData(of: index, isolation: actor)
            }
        }
    }

    public struct Iterator: AsyncIteratorProtocol {
        fileprivate let state: ReaderState<Base>

        public mutating func next() async throws -> Part? {
            try await next(isolation: nil)
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> Part? {
            guard let info = try await state.nextPart(isolation: actor) else { return nil }
            return Part(info: info, body: Body(state: state, index: info.index))
        }
    }
}

/// The parser, the body's iterator and the chunk being read, shared by a reader's iterator and
/// its parts' bodies.
private final class ReaderState<Base: AsyncSequence> where Base.Element: MultipartChunk {
    private var parser: MultipartParser
    private var iterator: Base.AsyncIterator
    private var chunk: Base.Element? = nil
    private var position = 0
    private var finished = false
    /// The index of the part whose data is being read, while it is.
    private var openPart: Int? = nil
    private var decoder = MultipartTransferDecoder(.identity)
    private var decoded: [UInt8] = []

    init(parser: MultipartParser, iterator: Base.AsyncIterator) {
        self.parser = parser
        self.iterator = iterator
    }

    func nextPart(isolation actor: isolated (any Actor)?) async throws -> MultipartPart? {
        while let event = try await nextEvent(isolation: actor) {
            if case .partBegin(let part) = event {
                openPart = part.index
                return part
            }
        }
        return nil
    }

    func nextData(of index: Int, isolation actor: isolated (any Actor)?) async throws -> Base.Element.Slice? {
        guard openPart == index else { return nil }
        while let event = try await nextEvent(isolation: actor) {
            switch event {
            case .body(let range):
                guard let chunk else { preconditionFailure("a body event always refers to the current chunk") }
                if let slice = try decode(chunk: chunk, range, offset: parser.offset - position + range.lowerBound) { return slice }
            case .bodyLookbehind(let range):
                let offset = parser.lookbehindOffset
                let slice = try parser.withLookbehindBytes(range) { (bytes) throws(MultipartError) in try decode(bytes, offset: offset) }
                if let slice { return slice }
            case .partEnd:
                openPart = nil
                decoded.removeAll(keepingCapacity: true)
                try decoder.finish(into: &decoded, offset: parser.offset)
                if !decoded.isEmpty { return decoded.withUnsafeBytes { Base.Element.makeSlice(copying: $0) } }
                return nil
            case .partBegin, .end:
                preconditionFailure("a part's data ends with partEnd")
            }
        }
        return nil
    }

    private func decode(chunk: Base.Element, _ range: Range<Int>, offset: Int) throws(MultipartError) -> Base.Element.Slice? {
        if decoder.isIdentity { return chunk.slice(range) }
        return try chunk.withUnsafeChunkBytes { (bytes) throws(MultipartError) in
            try decode(UnsafeRawBufferPointer(rebasing: bytes[range]), offset: offset)
        }
    }

    private func decode(_ bytes: UnsafeRawBufferPointer, offset: Int) throws(MultipartError) -> Base.Element.Slice? {
        if decoder.isIdentity { return Base.Element.makeSlice(copying: bytes) }
        decoded.removeAll(keepingCapacity: true)
        try decoder.decode(bytes, into: &decoded, offset: offset)
        return decoded.isEmpty ? nil : decoded.withUnsafeBytes { Base.Element.makeSlice(copying: $0) }
    }

    /// The next parser event, reading the next chunk when the current one is used up; `nil` at
    /// the end of the body, once the parser has confirmed it was complete.
    private func nextEvent(isolation actor: isolated (any Actor)?) async throws -> MultipartEvent? {
        while !finished {
            if let chunk {
                let event = try chunk.withUnsafeChunkBytes { (bytes) throws(MultipartError) in
                    try parser.next(in: bytes, at: &position)
                }
                if let event {
                    if case .partBegin(let part) = event {
                        decoder = MultipartTransferDecoder(part.transferEncoding)
                    }
                    return event
                }
                self.chunk = nil
            }
            guard let next = try await iterator.next(isolation: actor) else {
                finished = true
                try parser.finish()
                return nil
            }
            chunk = next
            position = 0
        }
        return nil
    }
}
