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

/// Byte classes from RFC 9110 and RFC 2046.
enum ByteClass {
    /// `tchar`: the bytes of a token (header names, parameter names, unquoted values).
    static let token: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(byte)] = true }
        for byte in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(byte)] = true }
        for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(byte)] = true }
        for byte in "!#$%&'*+-.^_`|~".utf8 { table[Int(byte)] = true }
        return table
    }()

    /// `bchars` of RFC 2046 §5.1.1, without the space (allowed except as the last byte).
    static let boundary: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(byte)] = true }
        for byte in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(byte)] = true }
        for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(byte)] = true }
        for byte in "'()+_,-./:=?".utf8 { table[Int(byte)] = true }
        return table
    }()

    @inline(__always) static func isToken(_ byte: UInt8) -> Bool { token[Int(byte)] }
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
