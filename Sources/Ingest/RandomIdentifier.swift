/// Random identifiers from the system's generator (`getrandom`: no file to open, unlike
/// Foundation's `UUID()` on Linux, which reads `/dev/urandom` anew for each).
public enum RandomIdentifier {
    /// A version 4 UUID in its lowercase text form, `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
    public static func uuid() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<2).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // the RFC 4122 variant
        let hex = bytes.lowercaseHex.utf8
        var text = ""
        text.reserveCapacity(36)
        for (index, digit) in hex.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { text.append("-") }
            text.unicodeScalars.append(Unicode.Scalar(digit))
        }
        return text
    }

    /// `count` random lowercase hex digits (a short request id).
    public static func hex(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let words = (count + 15) / 16
        return String((0..<words).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }.lowercaseHex.prefix(count))
    }
}
