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
public struct MultipartPart: Sendable, Hashable {
    /// Every header, in wire order.
    public var headers: [MultipartHeader]
    /// The `name` parameter of Content-Disposition.
    public var name: String
    /// The effective filename: the plain `filename` parameter when present (RFC 7578 §4.2), else
    /// the decoded `filename*`; `nil` for a part that is not a file.
    public var filename: String?
    /// The decoded `filename*` parameter (RFC 8187), when present.
    public var filenameStar: String?
    /// The Content-Type header value as sent (trimmed and unfolded), `""` when empty, `nil` when absent.
    public var contentType: String?
    /// The Content-Transfer-Encoding of the data.
    public var transferEncoding: MultipartTransferEncoding
    /// Every Content-Disposition parameter, names lowercased, in wire order.
    public var dispositionParameters: [HeaderParameter]
    /// The part's 0-based index in the body (skipped parts count).
    public var index: Int
    /// The byte offset of the part's first header byte in the body.
    public var offset: Int

    /// Whether the part is a file: its Content-Disposition has `filename` or `filename*`, even empty.
    public var isFile: Bool { filename != nil }

    /// The value of the first header named `name` (ASCII case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.matches(name) }?.value
    }

    public init(
        headers: [MultipartHeader], name: String, filename: String? = nil, filenameStar: String? = nil,
        contentType: String? = nil, transferEncoding: MultipartTransferEncoding = .identity,
        dispositionParameters: [HeaderParameter] = [], index: Int = 0, offset: Int = 0
    ) {
        self.headers = headers
        self.name = name
        self.filename = filename
        self.filenameStar = filenameStar
        self.contentType = contentType
        self.transferEncoding = transferEncoding
        self.dispositionParameters = dispositionParameters
        self.index = index
        self.offset = offset
    }
}
