// Delimiter matching for MultipartParser: part data and preamble are scanned with DelimiterSearch;
// a possible delimiter at a chunk's end is held (as a count of matched needle bytes, plus the
// transport padding read after a whole boundary, in `lookbehind`) until the next chunk decides it.

extension MultipartParser {
    enum ScanResult {
        /// `chunk[range]` is data.
        case data(Range<Int>)
        /// `lookbehind[range]` is data.
        case lookbehindData(Range<Int>)
        /// A delimiter was read up to its line break (or `--` for the close delimiter).
        case delimiter(close: Bool)
        /// The chunk is used up.
        case needInput
    }

    var needleLength: Int { delimiterLength - needleStart }

    /// The lookbehind range of the held bytes.
    var heldRange: Range<Int> {
        let tail = matched == needleLength ? lookbehind.count - delimiterLength : 0
        return (heldCR ? 0 : needleStart)..<(needleStart + matched + tail)
    }

    /// Forgets the held run, remembering where it started.
    mutating func resetMatcher() {
        resolvedHeldStart = heldStart
        matched = 0
        heldCR = false
        virtualHeld = 0
    }

    /// Drops the bytes read after the last boundary; done when a new boundary is matched, not at
    /// reset, since a ``MultipartEvent/bodyLookbehind(_:)`` range may still point at them.
    mutating func clearTail() {
        if lookbehind.count > delimiterLength {
            lookbehind.removeLast(lookbehind.count - delimiterLength)
        }
    }

    mutating func scan(_ chunk: UnsafeRawBufferPointer, _ position: inout Int, base: Int, end: Int) throws(MultipartError) -> ScanResult {
        guard position < end else { return .needInput }
        let bytes = chunk.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let needleLength = self.needleLength
        while true {
            if matched == needleLength {
                // A whole boundary is held: read what follows it.
                switch readTail(bytes, &position, end: end) {
                case .needInput:
                    return .needInput
                case .delimiter(let close):
                    resetMatcher()
                    return .delimiter(close: close)
                case .notDelimiter:
                    let range = heldRange
                    resetMatcher()
                    return .lookbehindData(range)
                case .bareLineFeed:
                    throw MultipartError(.bareLineFeed, offset: base + position, "a boundary line ends in LF without CR (strict mode requires CRLF)")
                }
            }
            if matched > 0 {
                // Part of a boundary is held: go on comparing.
                while position < end && matched < needleLength && bytes[position] == lookbehind[needleStart + matched] {
                    matched += 1
                    position += 1
                }
                if matched == needleLength {
                    clearTail()
                    continue
                }
                if position == end { return .needInput }
                let range = heldRange
                resetMatcher()
                return .lookbehindData(range)
            }
            if heldCR {
                // A CR ended the last chunk; it belongs to a delimiter only if LF follows.
                if bytes[position] == lookbehind[needleStart] {
                    matched = 1
                    position += 1
                    continue
                }
                resetMatcher()
                return .lookbehindData(0..<1)
            }
            let start = position
            let lenient = needleStart == 1
            if let match = search.firstMatch(in: bytes, from: start, end: end) {
                var dataEnd = match
                if lenient && match > start && bytes[match - 1] == Self.cr {
                    dataEnd -= 1
                    heldCR = true
                }
                matched = needleLength
                clearTail()
                heldStart = base + dataEnd
                position = match + needleLength
                if dataEnd > start { return .data(start..<dataEnd) }
                continue
            }
            var holdFrom = end
            if let partial = search.partialMatchAtEnd(in: bytes, from: start, end: end) {
                holdFrom = partial
                matched = end - partial
                if lenient && partial > start && bytes[partial - 1] == Self.cr {
                    holdFrom -= 1
                    heldCR = true
                }
            } else if lenient && bytes[end - 1] == Self.cr {
                holdFrom = end - 1
                heldCR = true
            }
            heldStart = base + holdFrom
            position = end
            return holdFrom > start ? .data(start..<holdFrom) : .needInput
        }
    }

    enum TailResult {
        case needInput, notDelimiter, bareLineFeed
        case delimiter(close: Bool)
    }

    /// Reads the bytes after a whole boundary: `--` (close delimiter), or transport padding and a
    /// line break (delimiter). Bytes read are appended to ``lookbehind`` in case they are data.
    mutating func readTail(_ bytes: UnsafePointer<UInt8>, _ position: inout Int, end: Int) -> TailResult {
        // What clients send: CRLF or "--" right after the boundary, both in this chunk.
        if lookbehind.count == delimiterLength && position + 1 < end {
            let first = bytes[position]
            let second = bytes[position + 1]
            if first == Self.cr && second == Self.lf {
                position += 2
                return .delimiter(close: false)
            }
            if first == UInt8(ascii: "-") && second == UInt8(ascii: "-") {
                position += 2
                return .delimiter(close: true)
            }
        }
        while position < end {
            let byte = bytes[position]
            let tail = lookbehind.count - delimiterLength
            let last = tail == 0 ? nil : lookbehind[lookbehind.count - 1]
            switch (last, byte) {
            case (nil, UInt8(ascii: "-")):
                break
            case (UInt8(ascii: "-")?, UInt8(ascii: "-")):
                position += 1
                return .delimiter(close: true)
            case (UInt8(ascii: "-")?, _):
                return .notDelimiter
            case (Self.cr?, Self.lf):
                position += 1
                return .delimiter(close: false)
            case (Self.cr?, _):
                return .notDelimiter
            case (_, Self.cr):
                break
            case (_, Self.lf):
                if options.strict { return .bareLineFeed }
                position += 1
                return .delimiter(close: false)
            case (_, 0x20), (_, 0x09):
                if tail >= Self.maximumTransportPadding { return .notDelimiter }
            default:
                return .notDelimiter
            }
            lookbehind.append(byte)
            position += 1
        }
        return .needInput
    }
}
