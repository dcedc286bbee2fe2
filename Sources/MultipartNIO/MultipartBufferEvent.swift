public import Multipart
public import NIOCore

/// A ``MultipartEvent`` with its data as a `ByteBuffer`.
public enum MultipartBufferEvent: Sendable, Equatable {
    /// A part's header block is complete.
    case partBegin(MultipartPart)
    /// Data of the current part (wire bytes: decode with ``MultipartTransferDecoder`` when the
    /// part's transfer encoding is not identity). A slice of the buffer that was fed, except for
    /// the few bytes that straddled two buffers.
    case body(ByteBuffer)
    /// The current part's data is complete.
    case partEnd
    /// The close delimiter was read.
    case end
}

extension MultipartParser {
    /// Parses the readable bytes of `buffer` and returns their events, with part data as slices
    /// of `buffer`.
    public mutating func feed(_ buffer: ByteBuffer) throws(MultipartError) -> [MultipartBufferEvent] {
        var events: [MultipartBufferEvent] = []
        try feed(buffer) { events.append($0) }
        return events
    }

    /// Parses the readable bytes of `buffer`, calling `handle` with each event in order, without
    /// collecting them.
    public mutating func feed(_ buffer: ByteBuffer, _ handle: (MultipartBufferEvent) -> Void) throws(MultipartError) {
        try buffer.withUnsafeChunkBytes { (bytes) throws(MultipartError) in
            var position = 0
            while let event = try next(in: bytes, at: &position) {
                switch event {
                case .partBegin(let part): handle(.partBegin(part))
                case .body(let range): handle(.body(buffer.slice(range)))
                case .bodyLookbehind(let range): handle(.body(withLookbehindBytes(range) { ByteBuffer(bytes: $0) }))
                case .partEnd: handle(.partEnd)
                case .end: handle(.end)
                }
            }
        }
    }
}
