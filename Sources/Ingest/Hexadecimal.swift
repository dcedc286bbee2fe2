extension Sequence<UInt8> {
    /// The bytes as lowercase hexadecimal, two digits each (how digests are written everywhere:
    /// blob names, fingerprints, key hashes).
    public var lowercaseHex: String {
        map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
