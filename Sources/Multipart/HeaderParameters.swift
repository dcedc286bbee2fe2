/// One `name=value` parameter of a header value, as in `form-data; name="a"` or
/// `multipart/form-data; boundary=x`.
public struct HeaderParameter: Sendable, Hashable {
    /// The parameter name, lowercased (parameter names are case-insensitive).
    public var name: String
    /// The value, with quoted-string quoting removed, decoded by the ``HeaderText`` rule.
    public var value: String
    /// Whether the value was a quoted-string on the wire.
    public var wasQuoted: Bool

    public init(name: String, value: String, wasQuoted: Bool = false) {
        self.name = name
        self.value = value
        self.wasQuoted = wasQuoted
    }
}

/// A header value of the form `leading-token *( OWS ";" OWS name "=" value )`: Content-Type and
/// Content-Disposition (RFC 9110 §5.6.6, RFC 6266, RFC 7578).
///
/// Parsing is one pass over the bytes, linear in their length whatever they hold. Semicolons and
/// equals signs inside quoted-strings are data. Inside a quoted-string only `\"` and `\\` are
/// escapes; any other backslash is kept as a literal byte, because browsers send Windows paths
/// (`C:\files\a.txt`) unescaped. Duplicate parameter names are an error.
struct ParameterizedValue: Sendable {
    var leading: String
    var parameters: [HeaderParameter]

    struct Failure: Error {
        enum Kind { case syntax, duplicate }
        var kind: Kind
        var offset: Int
        var message: String
    }

    /// - Parameters:
    ///   - leadingIsMediaType: the leading token is `type/subtype` (Content-Type) rather than one token.
    ///   - strict: unquoted values must be tokens; otherwise anything up to `;` is taken, trimmed.
    static func parse(_ bytes: UnsafeRawBufferPointer, leadingIsMediaType: Bool, strict: Bool) throws(Failure) -> ParameterizedValue {
        var index = 0
        let count = bytes.count
        func skipWhitespace() {
            while index < count && ByteClass.isWhitespace(bytes[index]) { index += 1 }
        }
        func token() -> Range<Int> {
            let start = index
            while index < count && ByteClass.isToken(bytes[index]) { index += 1 }
            return start..<index
        }

        skipWhitespace()
        let leadingStart = index
        let first = token()
        if first.isEmpty {
            throw Failure(kind: .syntax, offset: index, message: leadingIsMediaType ? "expected a media type such as multipart/form-data" : "expected a disposition type such as form-data")
        }
        if leadingIsMediaType {
            guard index < count && bytes[index] == UInt8(ascii: "/") else {
                throw Failure(kind: .syntax, offset: index, message: "expected '/' between media type and subtype")
            }
            index += 1
            if token().isEmpty {
                throw Failure(kind: .syntax, offset: index, message: "expected a media subtype after '/'")
            }
        }
        let leading = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[leadingStart..<index]), as: UTF8.self)
        var parameters: [HeaderParameter] = []

        while true {
            skipWhitespace()
            if index == count { break }
            guard bytes[index] == UInt8(ascii: ";") else {
                throw Failure(kind: .syntax, offset: index, message: "expected ';' before the next parameter")
            }
            index += 1
            skipWhitespace()
            if index == count || bytes[index] == UInt8(ascii: ";") {
                if strict { throw Failure(kind: .syntax, offset: index, message: "empty parameter after ';'") }
                continue
            }
            let nameStart = index
            let nameRange = token()
            if nameRange.isEmpty {
                throw Failure(kind: .syntax, offset: index, message: "expected a parameter name")
            }
            let name = lowercasedASCII(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[nameRange]), as: UTF8.self))
            skipWhitespace()
            guard index < count && bytes[index] == UInt8(ascii: "=") else {
                throw Failure(kind: .syntax, offset: index, message: "expected '=' after parameter name '\(name)'")
            }
            index += 1
            skipWhitespace()
            let value: String
            let quoted: Bool
            if index < count && bytes[index] == UInt8(ascii: "\"") {
                let open = index
                index += 1
                var unescaped: [UInt8] = []
                var segmentStart = index
                var closed = false
                while index < count {
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\"") {
                        closed = true
                        break
                    }
                    if byte == UInt8(ascii: "\\") && index + 1 < count
                        && (bytes[index + 1] == UInt8(ascii: "\"") || bytes[index + 1] == UInt8(ascii: "\\"))
                    {
                        unescaped.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[segmentStart..<index]))
                        unescaped.append(bytes[index + 1])
                        index += 2
                        segmentStart = index
                        continue
                    }
                    index += 1
                }
                guard closed else {
                    throw Failure(kind: .syntax, offset: open, message: "quoted value of parameter '\(name)' has no closing '\"'")
                }
                if unescaped.isEmpty {
                    value = HeaderText.decode(UnsafeRawBufferPointer(rebasing: bytes[segmentStart..<index]))
                } else {
                    unescaped.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[segmentStart..<index]))
                    value = HeaderText.decode(unescaped)
                }
                index += 1
                quoted = true
            } else {
                let valueStart = index
                if strict {
                    if token().isEmpty {
                        throw Failure(kind: .syntax, offset: index, message: "parameter '\(name)' has no value (quote it if it has spaces or separators)")
                    }
                } else {
                    while index < count && bytes[index] != UInt8(ascii: ";") { index += 1 }
                }
                var valueEnd = index
                while valueEnd > valueStart && ByteClass.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
                value = HeaderText.decode(UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd]))
                quoted = false
            }
            if parameters.contains(where: { $0.name == name }) {
                throw Failure(kind: .duplicate, offset: nameStart, message: "parameter '\(name)' appears twice")
            }
            parameters.append(HeaderParameter(name: name, value: value, wasQuoted: quoted))
        }
        return ParameterizedValue(leading: leading, parameters: parameters)
    }

    func parameter(_ lowercasedName: String) -> HeaderParameter? {
        parameters.first { $0.name == lowercasedName }
    }
}
