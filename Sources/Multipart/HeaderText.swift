/// How header bytes become `String`s.
///
/// The rule: bytes that are valid UTF-8 are decoded as UTF-8 (what every current browser sends);
/// any other byte sequence is decoded as ISO-8859-1, one byte to one code point U+0000–U+00FF
/// (HTTP's historical header charset). Nothing is ever dropped or replaced, so the original bytes
/// can always be recovered: `Array(value.utf8)` for UTF-8, the scalars' values for ISO-8859-1.
public enum HeaderText {
    /// Decodes `bytes` by the rule above.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> String {
        var allASCII = true
        for byte in bytes where byte >= 0x80 {
            allASCII = false
            break
        }
        if allASCII || String(validating: bytes, as: UTF8.self) != nil {
            return String(decoding: bytes, as: UTF8.self)
        }
        return latin1(bytes)
    }

    /// Decodes `bytes` by the rule above.
    public static func decode(_ bytes: some Collection<UInt8>) -> String {
        let result: String? = bytes.withContiguousStorageIfAvailable { decode(UnsafeRawBufferPointer($0)) }
        if let result { return result }
        return Array(bytes).withUnsafeBytes { decode($0) }
    }

    static func latin1(_ bytes: some Sequence<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
        return String(scalars)
    }
}

/// Byte classes from RFC 9110 and RFC 2046, as 128-bit sets (no table to initialise lazily).
enum ByteClass {
    /// A set of ASCII bytes: bit `b` of `low` (b < 64) or of `high` (b - 64).
    struct ASCIISet {
        var low: UInt64 = 0
        var high: UInt64 = 0

        init(_ members: StaticString, ranges: [ClosedRange<UInt8>] = []) {
            for range in ranges { for byte in range { insert(byte) } }
            for index in 0..<members.utf8CodeUnitCount { insert(members.utf8Start[index]) }
        }

        private mutating func insert(_ byte: UInt8) {
            if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
        }

        @inline(__always)
        func contains(_ byte: UInt8) -> Bool {
            if byte < 64 { return low & (1 << UInt64(byte)) != 0 }
            if byte < 128 { return high & (1 << UInt64(byte &- 64)) != 0 }
            return false
        }
    }

    private static let alphanumeric: [ClosedRange<UInt8>] = [
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
    ]

    /// `tchar`: the bytes of a token (header names, parameter names, unquoted values).
    static let token = ASCIISet("!#$%&'*+-.^_`|~", ranges: alphanumeric)

    /// `bchars` of RFC 2046 §5.1.1, without the space (allowed except as the last byte).
    static let boundary = ASCIISet("'()+_,-./:=?", ranges: alphanumeric)

    @inline(__always) static func isToken(_ byte: UInt8) -> Bool {
        // The set's two words, computed once by hand so the hot path reads no global.
        let low: UInt64 = 0x03FF_6CFA_0000_0000
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE
        if byte < 64 { return low & (1 << UInt64(byte)) != 0 }
        if byte < 128 { return high & (1 << UInt64(byte &- 64)) != 0 }
        return false
    }

    @inline(__always) static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
}

extension UInt8 {
    @inline(__always) var asciiLowercased: UInt8 {
        self >= 0x41 && self <= 0x5A ? self | 0x20 : self
    }
}

/// ASCII case-insensitive comparison of header bytes with a lowercase ASCII literal.
@inline(__always)
func asciiEqualsLowercase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
    guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
    let literal = lowercase.utf8Start
    for index in 0..<bytes.count where bytes[index].asciiLowercased != literal[index] {
        return false
    }
    return true
}
