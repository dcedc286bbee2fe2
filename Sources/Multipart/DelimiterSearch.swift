/// Finds a delimiter (`\n--boundary` or `\r\n--boundary`) in part data without stepping through
/// the data byte by byte.
///
/// The hot loop of the parser. It compares 32 candidate start positions at a time: a position is
/// a candidate when both the needle's first byte and its last byte are where they should be
/// (the "generic SIMD" substring search). In random data that is one position in 65,536, and in
/// data dense with line breaks and dashes the last byte (a boundary character) still filters
/// almost every near miss. Candidates are confirmed with a full compare.
struct DelimiterSearch: Sendable {
    /// The bytes searched for; `needle[0]` occurs nowhere else in it (it is CR or LF, which no
    /// boundary contains), so a failed partial match never hides an earlier start.
    let needle: [UInt8]

    init(needle: [UInt8]) {
        precondition(needle.count >= 2)
        self.needle = needle
    }

    /// The first index `i` in `from ..< end - needle.count + 1` with `bytes[i ..< i + needle.count] == needle`.
    @inline(__always)
    func firstMatch(in bytes: UnsafePointer<UInt8>, from: Int, end: Int) -> Int? {
        let length = needle.count
        let lastStart = end - length
        guard from <= lastStart else { return nil }
        return needle.withUnsafeBufferPointer { needleBytes -> Int? in
            let first = needleBytes[0]
            let last = needleBytes[length - 1]
            var i = from
            let firstVector = SIMD32<UInt8>(repeating: first)
            let lastVector = SIMD32<UInt8>(repeating: last)
            let raw = UnsafeRawPointer(bytes)
            while i + 32 <= lastStart + 1 {
                let heads = raw.loadUnaligned(fromByteOffset: i, as: SIMD32<UInt8>.self)
                let tails = raw.loadUnaligned(fromByteOffset: i + length - 1, as: SIMD32<UInt8>.self)
                let candidates = (heads .== firstVector) .& (tails .== lastVector)
                // `any(_:)` is not inlined on Linux; OR the lanes as four words instead. Each lane
                // is 0x00 or 0xFF, so a word's lowest set byte is its first candidate.
                let words = unsafeBitCast(candidates, to: SIMD4<UInt64>.self)
                if (words[0] | words[1] | words[2] | words[3]) != 0 {
                    for wordIndex in 0..<4 {
                        var word = words[wordIndex]
                        while word != 0 {
                            let lane = wordIndex &* 8 &+ word.trailingZeroBitCount &>> 3
                            if Self.matches(needleBytes, at: bytes + i + lane) { return i + lane }
                            word &= ~(0xFF << UInt64((lane & 7) &* 8))  // this lane is done
                        }
                    }
                }
                i &+= 32
            }
            while i <= lastStart {
                if bytes[i] == first && bytes[i + length - 1] == last && Self.matches(needleBytes, at: bytes + i) {
                    return i
                }
                i &+= 1
            }
            return nil
        }
    }

    /// Where a proper prefix of the needle starts in the last `needle.count - 1` bytes of
    /// `bytes[from ..< end]`, reaching to `end`; `nil` when no suffix is such a prefix.
    @inline(__always)
    func partialMatchAtEnd(in bytes: UnsafePointer<UInt8>, from: Int, end: Int) -> Int? {
        let first = needle[0]
        var i = end - 1
        let lowest = max(from, end - needle.count + 1)
        while i >= lowest {
            if bytes[i] == first {
                // needle[0] occurs once in the needle, so only this start can match.
                var k = 1
                while i + k < end {
                    if bytes[i + k] != needle[k] { return nil }
                    k += 1
                }
                return i
            }
            i -= 1
        }
        return nil
    }

    @inline(__always)
    private static func matches(_ needle: UnsafeBufferPointer<UInt8>, at candidate: UnsafePointer<UInt8>) -> Bool {
        // First and last bytes already match: compare the rest eight bytes at a time.
        let count = needle.count
        let wanted = UnsafeRawPointer(needle.baseAddress!)
        let seen = UnsafeRawPointer(candidate)
        var k = 1
        while k &+ 8 <= count {
            if wanted.loadUnaligned(fromByteOffset: k, as: UInt64.self) != seen.loadUnaligned(fromByteOffset: k, as: UInt64.self) {
                return false
            }
            k &+= 8
        }
        while k < count {
            if candidate[k] != needle[k] { return false }
            k &+= 1
        }
        return true
    }
}
