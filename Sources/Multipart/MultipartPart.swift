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
    private final class Storage: Sendable {
        let rawHeaderBlock: [UInt8]
        let name: String
        let filename: String?
        let filenameStar: String?
        let contentType: String?
        let transferEncoding: MultipartTransferEncoding
        let index: Int
        let offset: Int

        init(
            rawHeaderBlock: [UInt8], name: String, filename: String?, filenameStar: String?,
            contentType: String?, transferEncoding: MultipartTransferEncoding, index: Int, offset: Int
        ) {
            self.rawHeaderBlock = rawHeaderBlock
            self.name = name
            self.filename = filename
            self.filenameStar = filenameStar
            self.contentType = contentType
            self.transferEncoding = transferEncoding
            self.index = index
            self.offset = offset
        }
    }

    private let storage: Storage

    /// The part's header block as it came: every header line with its line break. ``headers`` and
    /// ``dispositionParameters`` are read from it when asked for, so a part costs one copy of its
    /// header bytes, not a string per header.
    public var rawHeaderBlock: [UInt8] { storage.rawHeaderBlock }
    /// The `name` parameter of Content-Disposition.
    public var name: String { storage.name }
    /// The effective filename: the plain `filename` parameter when present (RFC 7578 §4.2), else
    /// the decoded `filename*`; `nil` for a part that is not a file.
    public var filename: String? { storage.filename }
    /// The decoded `filename*` parameter (RFC 8187), when present.
    public var filenameStar: String? { storage.filenameStar }
    /// The Content-Type header value as sent (trimmed and unfolded), `""` when empty, `nil` when absent.
    public var contentType: String? { storage.contentType }
    /// The Content-Transfer-Encoding of the data.
    public var transferEncoding: MultipartTransferEncoding { storage.transferEncoding }
    /// The part's 0-based index in the body (skipped parts count).
    public var index: Int { storage.index }
    /// The byte offset of the part's first header byte in the body.
    public var offset: Int { storage.offset }

    /// Whether the part is a file: its Content-Disposition has `filename` or `filename*`, even empty.
    public var isFile: Bool { storage.filename != nil }

    /// Every header, in wire order, unfolded, decoded by the ``HeaderText`` rule.
    public var headers: [MultipartHeader] {
        storage.rawHeaderBlock.withUnsafeBytes { HeaderBlock.headers(of: $0) }
    }

    /// Every Content-Disposition parameter, names lowercased, in wire order.
    public var dispositionParameters: [HeaderParameter] {
        guard let disposition = header("content-disposition") else { return [] }
        var text = disposition
        return text.withUTF8 { bytes in
            (try? ParameterizedValue.parse(UnsafeRawBufferPointer(bytes), leadingIsMediaType: false, strict: false))?.parameters ?? []
        }
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
        self.init(
            rawHeaderBlock: Array(headers.map { "\($0.name): \($0.value)\r\n" }.joined().utf8), name: name, filename: filename,
            filenameStar: filenameStar, contentType: contentType, transferEncoding: transferEncoding, index: index, offset: offset)
    }

    init(
        rawHeaderBlock: [UInt8], name: String, filename: String?, filenameStar: String?,
        contentType: String?, transferEncoding: MultipartTransferEncoding, index: Int, offset: Int
    ) {
        storage = Storage(
            rawHeaderBlock: rawHeaderBlock, name: name, filename: filename, filenameStar: filenameStar,
            contentType: contentType, transferEncoding: transferEncoding, index: index, offset: offset)
    }

    /// The same part with another raw header block.
    func replacingRawHeaderBlock(_ block: [UInt8]) -> MultipartPart {
        MultipartPart(
            rawHeaderBlock: block, name: name, filename: filename, filenameStar: filenameStar,
            contentType: contentType, transferEncoding: transferEncoding, index: index, offset: offset)
    }

    public static func == (lhs: MultipartPart, rhs: MultipartPart) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.rawHeaderBlock == rhs.rawHeaderBlock && lhs.name == rhs.name && lhs.filename == rhs.filename
                && lhs.filenameStar == rhs.filenameStar && lhs.contentType == rhs.contentType
                && lhs.transferEncoding == rhs.transferEncoding && lhs.index == rhs.index && lhs.offset == rhs.offset)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rawHeaderBlock)
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
