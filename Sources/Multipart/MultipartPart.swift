/// One header of a part, in the order it came.
public struct MultipartHeader: Sendable, Hashable {
    /// The name as sent (compare with ``matches(_:)``: names are case-insensitive).
    public var name: String
    /// The value without surrounding white space, unfolded, decoded by the ``HeaderText`` rule.
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Whether this header's name equals `name`, ignoring ASCII case.
    public func matches(_ name: String) -> Bool {
        self.name.utf8.elementsEqual(name.utf8) { $0.asciiLowercased == $1.asciiLowercased }
    }
}

/// How a part's data is encoded on the wire (its Content-Transfer-Encoding header).
public enum MultipartTransferEncoding: Sendable, Hashable {
    /// No header, or `7bit`, `8bit`, `binary`: the data is the wire bytes.
    case identity
    /// `base64` (RFC 2045 §6.8).
    case base64
    /// `quoted-printable` (RFC 2045 §6.7).
    case quotedPrintable
}

/// A part's headers and what they say: reported when its header block is complete, before any
/// of its data.
///
/// Client strings are reported exactly as sent. A filename such as `../../etc/passwd` is data;
/// never build a path from it.
///
/// A value type whose fields live in one immutable shared box, so that passing a part around (in
/// every ``MultipartEvent``) costs one reference count, not one per string.
public struct MultipartPart: Sendable, Hashable {
    /// The fields; the raw header block is allocated in the same object, after them.
    private struct Fields {
        let name: String
        let filename: String?
        let filenameStar: String?
        let contentType: String?
        let transferEncoding: MultipartTransferEncoding
        let index: Int
        let offset: Int
        let headerByteCount: Int
    }

    /// One allocation per part: the fields and, after them, the header bytes. Never mutated after
    /// it is made, which is what makes sharing it across tasks safe.
    private struct Storage: @unchecked Sendable {
        private let buffer: ManagedBuffer<Fields, UInt8>

        init(_ fields: Fields, headerBytes: UnsafeRawBufferPointer) {
            buffer = ManagedBuffer<Fields, UInt8>.create(minimumCapacity: headerBytes.count) { _ in fields }
            buffer.withUnsafeMutablePointerToElements { elements in
                if let source = headerBytes.baseAddress {
                    elements.initialize(from: source.assumingMemoryBound(to: UInt8.self), count: headerBytes.count)
                }
            }
        }

        var fields: Fields { buffer.header }

        func withHeaderBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
            try buffer.withUnsafeMutablePointers { fields, elements in
                try body(UnsafeRawBufferPointer(start: elements, count: fields.pointee.headerByteCount))
            }
        }

        static func === (lhs: Storage, rhs: Storage) -> Bool { lhs.buffer === rhs.buffer }
    }

    private let storage: Storage

    /// The part's header block as it came: every header line with its line break. ``headers`` and
    /// ``dispositionParameters`` are read from it when asked for, so a part costs one copy of its
    /// header bytes, not a string per header.
    public var rawHeaderBlock: [UInt8] { withRawHeaderBlock { Array($0) } }
    /// The `name` parameter of Content-Disposition.
    public var name: String { storage.fields.name }
    /// The effective filename: the plain `filename` parameter when present (RFC 7578 §4.2), else
    /// the decoded `filename*`; `nil` for a part that is not a file.
    public var filename: String? { storage.fields.filename }
    /// The decoded `filename*` parameter (RFC 8187), when present.
    public var filenameStar: String? { storage.fields.filenameStar }
    /// The Content-Type header value as sent (trimmed and unfolded), `""` when empty, `nil` when absent.
    public var contentType: String? { storage.fields.contentType }
    /// The Content-Transfer-Encoding of the data.
    public var transferEncoding: MultipartTransferEncoding { storage.fields.transferEncoding }
    /// The part's 0-based index in the body (skipped parts count).
    public var index: Int { storage.fields.index }
    /// The byte offset of the part's first header byte in the body.
    public var offset: Int { storage.fields.offset }

    /// Whether the part is a file: its Content-Disposition has `filename` or `filename*`, even empty.
    public var isFile: Bool { storage.fields.filename != nil }

    /// Every header, in wire order, unfolded, decoded by the ``HeaderText`` rule.
    public var headers: [MultipartHeader] {
        withRawHeaderBlock { HeaderBlock.headers(of: $0) }
    }

    /// Every Content-Disposition parameter, names lowercased, in wire order.
    public var dispositionParameters: [HeaderParameter] {
        guard let disposition = header("content-disposition") else { return [] }
        var text = disposition
        return text.withUTF8 { bytes in
            (try? ParameterizedValue.parse(UnsafeRawBufferPointer(bytes), leadingIsMediaType: false, strict: false))?.parameters ?? []
        }
    }

    /// Calls `body` with the raw header block, without copying it.
    public func withRawHeaderBlock<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try storage.withHeaderBytes(body)
    }

    /// The value of the first header named `name` (ASCII case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.matches(name) }?.value
    }

    /// A part with these headers (written as `Name: value` lines) and values.
    public init(
        headers: [MultipartHeader], name: String, filename: String? = nil, filenameStar: String? = nil,
        contentType: String? = nil, transferEncoding: MultipartTransferEncoding = .identity, index: Int = 0, offset: Int = 0
    ) {
        let block = Array(headers.map { "\($0.name): \($0.value)\r\n" }.joined().utf8)
        self = block.withUnsafeBytes { bytes in
            MultipartPart(
                rawHeaderBlock: bytes, name: name, filename: filename, filenameStar: filenameStar,
                contentType: contentType, transferEncoding: transferEncoding, index: index, offset: offset)
        }
    }

    init(
        rawHeaderBlock: UnsafeRawBufferPointer, name: String, filename: String?, filenameStar: String?,
        contentType: String?, transferEncoding: MultipartTransferEncoding, index: Int, offset: Int
    ) {
        let fields = Fields(
            name: name, filename: filename, filenameStar: filenameStar, contentType: contentType,
            transferEncoding: transferEncoding, index: index, offset: offset, headerByteCount: rawHeaderBlock.count)
        storage = Storage(fields, headerBytes: rawHeaderBlock)
    }

    /// The same part with another raw header block.
    func replacingRawHeaderBlock(_ block: UnsafeRawBufferPointer) -> MultipartPart {
        MultipartPart(
            rawHeaderBlock: block, name: name, filename: filename, filenameStar: filenameStar,
            contentType: contentType, transferEncoding: transferEncoding, index: index, offset: offset)
    }

    public static func == (lhs: MultipartPart, rhs: MultipartPart) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.withRawHeaderBlock { left in rhs.withRawHeaderBlock { left.elementsEqual($0) } } && lhs.name == rhs.name && lhs.filename == rhs.filename
                && lhs.filenameStar == rhs.filenameStar && lhs.contentType == rhs.contentType
                && lhs.transferEncoding == rhs.transferEncoding && lhs.index == rhs.index && lhs.offset == rhs.offset)
    }

    public func hash(into hasher: inout Hasher) {
        withRawHeaderBlock { hasher.combine(bytes: $0) }
        hasher.combine(name)
        hasher.combine(filename)
        hasher.combine(filenameStar)
        hasher.combine(contentType)
        hasher.combine(transferEncoding)
        hasher.combine(index)
        hasher.combine(offset)
    }
}

extension MultipartPart: CustomStringConvertible {
    public var description: String {
        "MultipartPart(index: \(index), name: \(name.debugDescription), filename: \(filename?.debugDescription ?? "nil"), contentType: \(contentType?.debugDescription ?? "nil"), offset: \(offset))"
    }
}
