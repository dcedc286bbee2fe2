extension Sequence<UInt8> {
    /// The bytes as lowercase hexadecimal, two digits each (how digests are written everywhere:
    /// blob names, fingerprints, key hashes).
    public var lowercaseHex: String {
        let bytes = Array(self)
        return String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            for (index, byte) in bytes.enumerated() {
                buffer[2 * index] = Hexadecimal.digits[Int(byte >> 4)]
                buffer[2 * index + 1] = Hexadecimal.digits[Int(byte & 0x0F)]
            }
            return bytes.count * 2
        }
    }
}

enum Hexadecimal {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)
}
