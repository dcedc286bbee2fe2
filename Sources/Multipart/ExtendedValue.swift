/// Decodes an RFC 8187 ext-value such as `UTF-8''n%C3%A4me.txt` (the value of `filename*`).
///
/// Charsets: UTF-8 (whose bytes must be valid UTF-8), ISO-8859-1 and US-ASCII, case-insensitive.
/// The language tag is ignored.
enum ExtendedValue {
    struct Failure: Error { var message: String }

    static func decode(_ value: String) throws(Failure) -> String {
        let bytes = Array(value.utf8)
        guard let firstQuote = bytes.firstIndex(of: UInt8(ascii: "'")),
            let secondQuote = bytes[(firstQuote + 1)...].firstIndex(of: UInt8(ascii: "'"))
        else {
            throw Failure(message: "filename* must look like UTF-8''percent-encoded-name")
        }
        let charset = String(decoding: bytes[..<firstQuote].map(\.asciiLowercased), as: UTF8.self)
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count - secondQuote)
        var index = secondQuote + 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else {
                    throw Failure(message: "filename* has a '%' not followed by two hex digits")
                }
                decoded.append(high << 4 | low)
                index += 3
            } else {
                decoded.append(byte)
                index += 1
            }
        }
        switch charset {
        case "utf-8", "utf8":
            guard let text = String(validating: decoded, as: UTF8.self) else {
                throw Failure(message: "filename* says UTF-8 but its bytes are not valid UTF-8")
            }
            return text
        case "iso-8859-1", "latin1":
            return HeaderText.latin1(decoded)
        case "us-ascii":
            guard decoded.allSatisfy({ $0 < 0x80 }) else {
                throw Failure(message: "filename* says US-ASCII but has bytes above 0x7F")
            }
            return String(decoding: decoded, as: UTF8.self)
        default:
            throw Failure(message: "filename* charset '\(charset)' is not supported (use UTF-8 or ISO-8859-1)")
        }
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
