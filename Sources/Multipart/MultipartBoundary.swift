/// A multipart boundary (RFC 2046 §5.1.1): 1 to 70 bytes, no CR or LF, not ending in a space.
///
/// Strict validation takes only RFC 2046 `bchars` (letters, digits, `'()+_,-./:=?` and interior
/// spaces); lenient validation, the default, takes any printable ASCII byte, since some clients
/// generate boundaries with other punctuation.
public struct MultipartBoundary: Sendable, Hashable, CustomStringConvertible {
    /// The longest boundary RFC 2046 allows.
    public static let maximumLength = 70

    /// The boundary bytes, without the leading `--`.
    public let bytes: [UInt8]

    /// The boundary as text.
    public var description: String { String(decoding: bytes, as: UTF8.self) }

    /// Validates `boundary` (the value of the `boundary` parameter, without `--`).
    public init(_ boundary: String, strict: Bool = false) throws(MultipartError) {
        let bytes = Array(boundary.utf8)
        guard !bytes.isEmpty else {
            throw MultipartError(.invalidBoundary, offset: 0, "the boundary is empty; RFC 2046 requires 1 to 70 characters")
        }
        guard bytes.count <= Self.maximumLength else {
            throw MultipartError(.invalidBoundary, offset: Self.maximumLength, "the boundary is \(bytes.count) bytes long; RFC 2046 allows at most 70")
        }
        for (index, byte) in bytes.enumerated() {
            let allowed: Bool
            if byte == 0x20 {
                allowed = index != bytes.count - 1
            } else if strict {
                allowed = ByteClass.boundary.contains(byte)
            } else {
                allowed = byte > 0x20 && byte < 0x7F
            }
            guard allowed else {
                let shown = byte == 0x20 ? "a trailing space" : "byte 0x\(String(byte, radix: 16))"
                throw MultipartError(.invalidBoundary, offset: index, "the boundary contains \(shown), which RFC 2046 does not allow in a boundary")
            }
        }
        self.bytes = bytes
    }

    /// The boundary of a `multipart/...` Content-Type header value, quoted or not.
    ///
    /// Throws ``MultipartError/Code/invalidContentType`` when the value is not a multipart media
    /// type or cannot be parsed, ``MultipartError/Code/missingBoundary`` when it has no boundary,
    /// ``MultipartError/Code/duplicateParameter`` when it has two, and
    /// ``MultipartError/Code/invalidBoundary`` when the boundary is not valid. Offsets point into
    /// the Content-Type value.
    public init(contentType: String, strict: Bool = false) throws(MultipartError) {
        var utf8 = contentType
        let parsed = utf8.withUTF8 { buffer in
            Result { () throws(ParameterScanner.Failure) in
                try ParameterizedValue.parse(UnsafeRawBufferPointer(buffer), leadingIsMediaType: true, strict: strict)
            }
        }
        let value: ParameterizedValue
        switch parsed {
        case .success(let parsedValue):
            value = parsedValue
        case .failure(let failure):
            let code: MultipartError.Code = failure.kind == .duplicate ? .duplicateParameter : .invalidContentType
            throw MultipartError(code, offset: failure.offset, "Content-Type: \(failure.message)")
        }
        let mediaType = value.leading.lowercased()
        guard mediaType.hasPrefix("multipart/") else {
            throw MultipartError(.invalidContentType, offset: 0, "Content-Type is '\(value.leading)', not multipart/form-data")
        }
        guard let boundary = value.parameter("boundary") else {
            throw MultipartError(.missingBoundary, offset: contentType.utf8.count, "Content-Type has no boundary parameter; it should look like multipart/form-data; boundary=...")
        }
        let start = Self.offset(ofParameter: "boundary", in: contentType)
        do {
            try self.init(boundary.value, strict: strict)
        } catch {
            var shifted = error
            shifted.offset += start
            throw shifted
        }
    }

    private static func offset(ofParameter name: String, in value: String) -> Int {
        let haystack = Array(value.utf8).map(\.asciiLowercased)
        let needle = Array((name + "=").utf8)
        guard haystack.count >= needle.count else { return 0 }
        for start in 0...(haystack.count - needle.count) where haystack[start..<start + needle.count].elementsEqual(needle) {
            return start + needle.count
        }
        return 0
    }
}
