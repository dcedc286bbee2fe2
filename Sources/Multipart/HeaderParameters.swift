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

/// Reads a header value of the form `leading-token *( OWS ";" OWS name "=" value )`: Content-Type
/// and Content-Disposition (RFC 9110 §5.6.6, RFC 6266, RFC 7578).
///
/// One pass over the bytes, linear in their length whatever they hold. Semicolons and equals signs
/// inside quoted-strings are data. Inside a quoted-string only `\"` and `\\` are escapes; any other
/// backslash is kept as a literal byte, because browsers send Windows paths (`C:\files\a.txt`)
/// unescaped. Callers decide what a duplicate parameter means.
enum ParameterScanner {
    struct Failure: Error {
        enum Kind { case syntax, duplicate }
        var kind: Kind
        var offset: Int
        var message: String
    }

    /// A parameter value: bytes of the header value, or the unescaped bytes of a quoted-string
    /// that had escapes.
    enum Value {
        case bytes(Range<Int>)
        case unescaped([UInt8])

        func decoded(in header: UnsafeRawBufferPointer) -> String {
            switch self {
            case .bytes(let range): return HeaderText.decode(UnsafeRawBufferPointer(rebasing: header[range]))
            case .unescaped(let bytes): return HeaderText.decode(bytes)
            }
        }
    }

    /// Scans `bytes`, calling `visit` with each parameter's name range, value and whether it was
    /// quoted; returns the range of the leading token (`type/subtype` when `leadingIsMediaType`).
    ///
    /// - Parameter strict: unquoted values must be tokens; otherwise anything up to `;` is taken, trimmed.
    static func scan(
        _ bytes: UnsafeRawBufferPointer, leadingIsMediaType: Bool, strict: Bool,
        _ visit: (_ name: Range<Int>, _ value: Value, _ quoted: Bool) throws(Failure) -> Void
    ) throws(Failure) -> Range<Int> {
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
        if token().isEmpty {
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
        let leading = leadingStart..<index

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
            let name = token()
            if name.isEmpty {
                throw Failure(kind: .syntax, offset: index, message: "expected a parameter name")
            }
            skipWhitespace()
            guard index < count && bytes[index] == UInt8(ascii: "=") else {
                throw Failure(kind: .syntax, offset: index, message: "expected '=' after parameter name '\(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[name]), as: UTF8.self))'")
            }
            index += 1
            skipWhitespace()
            if index < count && bytes[index] == UInt8(ascii: "\"") {
                let open = index
                index += 1
                var unescaped: [UInt8]? = nil
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
                        if unescaped == nil { unescaped = [] }
                        unescaped!.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[segmentStart..<index]))
                        unescaped!.append(bytes[index + 1])
                        index += 2
                        segmentStart = index
                        continue
                    }
                    index += 1
                }
                guard closed else {
                    throw Failure(kind: .syntax, offset: open, message: "quoted value has no closing '\"'")
                }
                if var escaped = unescaped {
                    escaped.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[segmentStart..<index]))
                    try visit(name, .unescaped(escaped), true)
                } else {
                    try visit(name, .bytes(segmentStart..<index), true)
                }
                index += 1
            } else {
                let valueStart = index
                if strict {
                    if token().isEmpty {
                        throw Failure(kind: .syntax, offset: index, message: "a parameter has no value (quote it if it has spaces or separators)")
                    }
                } else {
                    while index < count && bytes[index] != UInt8(ascii: ";") { index += 1 }
                }
                var valueEnd = index
                while valueEnd > valueStart && ByteClass.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
                try visit(name, .bytes(valueStart..<valueEnd), false)
            }
        }
        return leading
    }
}

/// A parsed header value with its parameters in order, names lowercased, duplicates rejected.
struct ParameterizedValue: Sendable {
    var leading: String
    var parameters: [HeaderParameter]

    static func parse(_ bytes: UnsafeRawBufferPointer, leadingIsMediaType: Bool, strict: Bool) throws(ParameterScanner.Failure) -> ParameterizedValue {
        var parameters: [HeaderParameter] = []
        var seen = DuplicateNames()
        let leading = try ParameterScanner.scan(bytes, leadingIsMediaType: leadingIsMediaType, strict: strict) { (nameRange, value, quoted) throws(ParameterScanner.Failure) in
            let name = lowercasedASCII(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[nameRange]), as: UTF8.self))
            if !seen.insert(name) {
                throw ParameterScanner.Failure(kind: .duplicate, offset: nameRange.lowerBound, message: "parameter '\(name)' appears twice")
            }
            parameters.append(HeaderParameter(name: name, value: value.decoded(in: bytes), wasQuoted: quoted))
        }
        return ParameterizedValue(leading: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[leading]), as: UTF8.self), parameters: parameters)
    }

    func parameter(_ lowercasedName: String) -> HeaderParameter? {
        parameters.first { $0.name == lowercasedName }
    }
}

/// Lowercased parameter names seen so far: a short list, or a set once there are many, so a
/// header with thousands of parameters is still checked in linear time.
struct DuplicateNames {
    private var few: [String] = []
    private var many: Set<String>? = nil

    /// Adds `name`; returns `false` if it was already there.
    mutating func insert(_ name: String) -> Bool {
        if many != nil { return many!.insert(name).inserted }
        if few.contains(name) { return false }
        few.append(name)
        if few.count > 8 {
            many = Set(few)
            few = []
        }
        return true
    }
}
