/// A `Content-Disposition` header field (RFC 6266) outside a multipart body: what an HTTP
/// request that carries one file says of its name (the IETF resumable-upload protocol's
/// creation request, for one).
public enum ContentDisposition {
    /// The file name it gives: `filename*` (RFC 8187, decoded) when present and valid, else
    /// `filename`; nil when it names none. Throws ``MultipartError`` (kind `invalidParameters`)
    /// for a header that cannot be parsed: a syntax error, a parameter given twice.
    public static func filename(_ header: String) throws(MultipartError) -> String? {
        let parsed = Array(header.utf8).withUnsafeBytes { raw in
            Result { () throws(ParameterScanner.Failure) in try ParameterizedValue.parse(raw, leadingIsMediaType: false, strict: false) }
        }
        let value: ParameterizedValue
        switch parsed {
        case .success(let parsedValue): value = parsedValue
        case .failure(let error): throw MultipartError(.invalidParameters, offset: error.offset, "Content-Disposition: \(error.message)")
        }
        if let extended = value.parameter("filename*"), let decoded = try? ExtendedValue.decode(extended.value) {
            return decoded
        }
        return value.parameter("filename")?.value
    }
}
