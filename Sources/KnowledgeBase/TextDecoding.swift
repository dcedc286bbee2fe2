import Foundation

/// Bytes to text by a byte-order mark, else the charset libmagic or the client named, else UTF-8
/// when the bytes are valid UTF-8, else ISO-8859-1 (which decodes any byte).
enum TextDecoding {
    static func decode(_ data: Data, charset: String?) -> String {
        let bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return String(decoding: bytes.dropFirst(3), as: UTF8.self) }
        if bytes.starts(with: [0xFF, 0xFE]) { return utf16(bytes.dropFirst(2), bigEndian: false) }
        if bytes.starts(with: [0xFE, 0xFF]) { return utf16(bytes.dropFirst(2), bigEndian: true) }
        switch charset?.lowercased() {
        case "utf-16le": return utf16(bytes[...], bigEndian: false)
        case "utf-16be": return utf16(bytes[...], bigEndian: true)
        case "iso-8859-1", "latin1", "windows-1252", "unknown-8bit":
            return latin1(bytes)
        default:
            if let text = String(validating: bytes, as: UTF8.self) { return text }
            return latin1(bytes)
        }
    }

    private static func utf16(_ bytes: ArraySlice<UInt8>, bigEndian: Bool) -> String {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            let first = UInt16(bytes[index]), second = UInt16(bytes[index + 1])
            units.append(bigEndian ? first << 8 | second : second << 8 | first)
            index += 2
        }
        return String(decoding: units, as: UTF16.self)
    }

    private static func latin1(_ bytes: [UInt8]) -> String {
        String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }
}
