/// A body, header or Content-Type value the parser cannot accept, with the place it went wrong.
///
/// Modelled on NIO's `FileSystemError`: a stable ``Code`` to switch on, the byte ``offset`` to
/// point at, and a ``message`` a person can act on. `description` joins them in one line.
public struct MultipartError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, stable across releases.
    public enum Code: Hashable, Sendable {
        /// The Content-Type value is not `multipart/...` or cannot be parsed.
        case invalidContentType
        /// The Content-Type value has no `boundary` parameter.
        case missingBoundary
        /// The boundary is empty, longer than 70 bytes, or has bytes RFC 2046 does not allow.
        case invalidBoundary
        /// The body ended before the close delimiter (`--boundary--`).
        case truncatedBody
        /// The first delimiter is the close delimiter, after a preamble: the body has no parts,
        /// which RFC 2046 does not allow (usually a mistyped first boundary line).
        case missingFirstBoundary
        /// A header line is malformed: no colon, an empty or invalid name, a bare CR, a line that
        /// starts with white space where no header precedes it.
        case invalidHeader
        /// A line ends in LF without CR, in strict mode.
        case bareLineFeed
        /// A header is folded onto a continuation line (obsolete in RFC 7230), in strict mode.
        case foldedHeader
        /// The same header appears twice where only one is allowed
        /// (Content-Disposition, Content-Type, Content-Transfer-Encoding).
        case duplicateHeader
        /// A part has no Content-Disposition header.
        case missingContentDisposition
        /// A part's Content-Disposition is not `form-data` (or is empty, in strict mode).
        case notFormData
        /// A Content-Disposition or Content-Type parameter list cannot be parsed.
        case invalidParameters
        /// The same parameter appears twice in one header value.
        case duplicateParameter
        /// A `form-data` part has no `name` parameter.
        case missingName
        /// `filename*` is not a valid RFC 8187 ext-value, or its charset is not UTF-8 or ISO-8859-1.
        case invalidExtendedFilename
        /// A Content-Transfer-Encoding other than 7bit, 8bit, binary, base64 or quoted-printable.
        case unsupportedTransferEncoding
        /// Part data is not valid for its Content-Transfer-Encoding.
        case invalidEncodedData
        /// A limit in ``MultipartLimits`` was crossed.
        case limitExceeded(MultipartLimits.Limit)
    }

    /// What went wrong.
    public var code: Code
    /// The 0-based byte offset the error refers to: into the body for body errors, into the
    /// Content-Type value for ``Code/invalidContentType``, ``Code/missingBoundary`` and
    /// ``Code/invalidBoundary``.
    public var offset: Int
    /// For ``Code/limitExceeded(_:)``: the configured value of the limit.
    public var limitValue: Int?
    /// A sentence a person can act on, without the offset.
    public var message: String

    /// Creates an error; the parser creates these, tests and adapters may too.
    public init(_ code: Code, offset: Int, limitValue: Int? = nil, _ message: String) {
        self.code = code
        self.offset = offset
        self.limitValue = limitValue
        self.message = message
    }

    /// Whether the offset points into the Content-Type value rather than the body.
    public var isContentTypeError: Bool {
        switch code {
        case .invalidContentType, .missingBoundary, .invalidBoundary: return true
        default: return false
        }
    }

    public var description: String {
        let place = isContentTypeError ? "Content-Type value" : "body"
        return "\(message) (\(code), at byte \(offset) of the \(place))"
    }
}

extension MultipartError.Code: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidContentType: return "invalidContentType"
        case .missingBoundary: return "missingBoundary"
        case .invalidBoundary: return "invalidBoundary"
        case .truncatedBody: return "truncatedBody"
        case .missingFirstBoundary: return "missingFirstBoundary"
        case .invalidHeader: return "invalidHeader"
        case .bareLineFeed: return "bareLineFeed"
        case .foldedHeader: return "foldedHeader"
        case .duplicateHeader: return "duplicateHeader"
        case .missingContentDisposition: return "missingContentDisposition"
        case .notFormData: return "notFormData"
        case .invalidParameters: return "invalidParameters"
        case .duplicateParameter: return "duplicateParameter"
        case .missingName: return "missingName"
        case .invalidExtendedFilename: return "invalidExtendedFilename"
        case .unsupportedTransferEncoding: return "unsupportedTransferEncoding"
        case .invalidEncodedData: return "invalidEncodedData"
        case .limitExceeded(let limit): return "limitExceeded(\(limit))"
        }
    }
}
