/// A streaming multipart/form-data parser (RFC 7578, RFC 2046): a value type you feed chunks of
/// any size, which reports parts as ``MultipartEvent``s whose data are ranges into the chunk you
/// passed.
///
/// ```swift
/// var parser = try MultipartParser(contentType: request.headers["Content-Type"])
/// for chunk in chunks {
///     try chunk.withUnsafeBytes { bytes in
///         var position = 0
///         while let event = try parser.next(in: bytes, at: &position) {
///             if case .body(let range) = event { sink.write(UnsafeRawBufferPointer(rebasing: bytes[range])) }
///         }
///     }
/// }
/// try parser.finish()   // throws if the close delimiter never came
/// ```
///
/// Nothing is buffered across chunks except a header block (bounded by
/// ``MultipartLimits/headerBytes``) and, at a chunk's end, bytes that may begin a delimiter
/// (kept in ``lookbehind``). Part data is found with a vectorised search that never steps through
/// it byte by byte. Every input, hostile or not, is processed in time linear in its length.
///
/// Lenient by default, as browsers and HTTP clients need: LF-only line breaks, obsolete header
/// folding and a part whose Content-Disposition is empty (skipped) are accepted; with
/// ``Options/strict`` they are errors. Errors are ``MultipartError``s with the byte offset;
/// after one, the parser throws it again on every call.
public struct MultipartParser: Sendable {
    /// Parsing options.
    public struct Options: Sendable, Hashable {
        /// Reject what RFC 7578/2046 do not allow, rather than accept what real clients send.
        public var strict: Bool

        public init(strict: Bool = false) {
            self.strict = strict
        }
    }

    /// The most transport padding (spaces and tabs after a boundary, before its line break) that
    /// is recognised: RFC 2046 sets no bound and no client sends any, so a longer run means the
    /// bytes were data, not a delimiter.
    public static let maximumTransportPadding = 32

    /// The boundary this parser looks for.
    public let boundary: MultipartBoundary
    /// The limits this parser enforces.
    public let limits: MultipartLimits
    /// The options this parser was made with.
    public let options: Options

    /// `CRLF "--" boundary`, then the bytes read after a boundary while deciding whether it ends
    /// a delimiter. ``MultipartEvent/bodyLookbehind(_:)`` ranges point here.
    public private(set) var lookbehind: [UInt8]

    private enum Phase: Sendable {
        case preamble, headers, body, epilogue
    }

    private let search: DelimiterSearch
    /// Where the searched needle starts in ``lookbehind``: 1 (LF) when lenient, 0 (CR) when strict.
    private let needleStart: Int
    /// `lookbehind.count` without tail bytes: `CRLF -- boundary`.
    private let delimiterLength: Int

    private var phase: Phase = .preamble
    private var failure: MultipartError? = nil
    private var endPending = false
    /// Absolute offset of the next byte to read.
    private var consumed = 0

    // Delimiter match held across chunks.
    private var matched: Int
    private var heldCR = false
    private var heldStart = 0
    private var virtualHeld: Int

    // The current part.
    private var partCount = 0
    private var partBytes = 0
    private var partLimit = Int.max
    private var partLimitKind = MultipartLimits.Limit.fieldBytes
    private var skippingPart = false

    // The current header block.
    private var headerBuffer: [UInt8] = []
    private var headerStart = 0
    private var headerBytes = 0
    private var headerLines = 0
    private var lineLength = 0
    private var lineFirstByte: UInt8 = 0

    private var epilogueStart = 0

    /// A parser for `boundary`.
    public init(boundary: MultipartBoundary, limits: MultipartLimits = MultipartLimits(), options: Options = Options()) {
        self.boundary = boundary
        self.limits = limits
        self.options = options
        var delimiter = Array("\r\n--".utf8)
        delimiter.append(contentsOf: boundary.bytes)
        self.delimiterLength = delimiter.count
        self.needleStart = options.strict ? 0 : 1
        self.search = DelimiterSearch(needle: Array(delimiter[needleStart...]))
        delimiter.reserveCapacity(delimiter.count + Self.maximumTransportPadding + 1)
        self.lookbehind = delimiter
        // The body may start with "--boundary" at once: act as if the line break before it was read.
        self.matched = options.strict ? 2 : 1
        self.virtualHeld = matched
    }

    /// A parser for the boundary of a `multipart/form-data; boundary=...` Content-Type value.
    public init(contentType: String, limits: MultipartLimits = MultipartLimits(), options: Options = Options()) throws(MultipartError) {
        self.init(boundary: try MultipartBoundary(contentType: contentType, strict: options.strict), limits: limits, options: options)
    }

    /// Bytes the parser holds for the body right now (a partial header block and a possible
    /// delimiter), and the capacity it has reserved for them.
    public var retainedByteCapacity: Int { headerBuffer.capacity + lookbehind.capacity }

    /// Calls `body` with `lookbehind[range]`, the bytes of a ``MultipartEvent/bodyLookbehind(_:)``.
    public func withLookbehindBytes<Result, Failure: Error>(
        _ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let outcome = lookbehind.withUnsafeBytes { bytes in
            Swift.Result { () throws(Failure) in try body(UnsafeRawBufferPointer(rebasing: bytes[range])) }
        }
        return try outcome.get()
    }

    /// The body offset of the first byte of the last ``MultipartEvent/bodyLookbehind(_:)`` range.
    /// (For a ``MultipartEvent/body(_:)`` range, the chunk's first byte is at `offset - position`.)
    public var lookbehindOffset: Int { heldStartBeforeReset }

    /// The number of body bytes read so far.
    public var offset: Int { consumed }

    /// Whether the close delimiter has been read.
    public var isComplete: Bool { phase == .epilogue && !endPending }

    /// Reads `chunk` from `position` until there is an event to report, and returns it; returns
    /// `nil` when the chunk is used up (`position == chunk.count`): pass the next chunk with
    /// `position` 0.
    ///
    /// Pass the same chunk and the updated `position` until it returns `nil`.
    public mutating func next(in chunk: UnsafeRawBufferPointer, at position: inout Int) throws(MultipartError) -> MultipartEvent? {
        if let failure { throw failure }
        if endPending {
            endPending = false
            return .end
        }
        precondition(position >= 0 && position <= chunk.count, "position must be within the chunk")
        let base = consumed - position
        var end = chunk.count
        if let bodyLimit = limits.bodyBytes, base + end > bodyLimit {
            end = max(position, bodyLimit - base)
        }
        do throws(MultipartError) {
            let event = try step(chunk, &position, base: base, end: end)
            consumed = base + position
            if event == nil && end < chunk.count {
                throw limitError(.bodyBytes, at: base + end, "the body is larger than the limit")
            }
            return event
        } catch {
            consumed = base + position
            failure = error
            throw error
        }
    }

    /// Reads all of `chunk` and returns its events. ``next(in:at:)`` does the same without
    /// allocating an array.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) throws(MultipartError) -> [MultipartEvent] {
        var events: [MultipartEvent] = []
        var position = 0
        while let event = try next(in: chunk, at: &position) { events.append(event) }
        return events
    }

    /// Declares the end of the body. Throws ``MultipartError/Code/truncatedBody`` unless the close
    /// delimiter was read (read every event of the last chunk first).
    public mutating func finish() throws(MultipartError) {
        if let failure { throw failure }
        let error: MultipartError
        switch phase {
        case .epilogue:
            return
        case .preamble:
            error = MultipartError(.truncatedBody, offset: consumed, consumed == 0
                ? "the body is empty; a form with no fields is '--\(boundary)--'"
                : "the body has no boundary line '--\(boundary)'; is the boundary in Content-Type the one the body uses?")
        case .headers:
            error = MultipartError(.truncatedBody, offset: consumed, "the body ended inside the headers of part \(partCount - 1)")
        case .body:
            error = MultipartError(.truncatedBody, offset: consumed, "the body ended inside the data of part \(partCount - 1), before the close delimiter '--\(boundary)--'")
        }
        failure = error
        throw error
    }

    // MARK: - Phases

    private mutating func step(_ chunk: UnsafeRawBufferPointer, _ position: inout Int, base: Int, end: Int) throws(MultipartError) -> MultipartEvent? {
        while position < end {
            switch phase {
            case .preamble:
                let virtual = virtualHeld
                let preambleEnd: Int
                switch try scan(chunk, &position, base: base, end: end) {
                case .needInput:
                    return nil
                case .data(let range):
                    preambleEnd = base + range.upperBound
                case .lookbehindData(let range):
                    preambleEnd = heldStartBeforeReset + range.count - virtual
                case .delimiter(let close):
                    if heldStartBeforeReset > limits.preambleBytes {
                        throw limitError(.preambleBytes, at: limits.preambleBytes, "the preamble before the first boundary is longer than the limit")
                    }
                    if close {
                        guard heldStartBeforeReset == 0 else {
                            throw MultipartError(.missingFirstBoundary, offset: heldStartBeforeReset, "the first boundary line is the close delimiter '--\(boundary)--' after \(heldStartBeforeReset) bytes of preamble: the body has no parts. Does the first line of the body match the boundary?")
                        }
                        enterEpilogue(at: base + position)
                        return .end
                    }
                    try beginHeaders(at: base + position)
                    continue
                }
                if preambleEnd > limits.preambleBytes {
                    throw limitError(.preambleBytes, at: limits.preambleBytes, "the preamble before the first boundary is longer than the limit")
                }
            case .headers:
                if let event = try readHeaders(chunk, &position, base: base, end: end) { return event }
            case .body:
                switch try scan(chunk, &position, base: base, end: end) {
                case .needInput:
                    return nil
                case .data(let range):
                    if skippingPart { continue }
                    try countPartBytes(range.count, startingAt: base + range.lowerBound)
                    return .body(range)
                case .lookbehindData(let range):
                    if skippingPart { continue }
                    try countPartBytes(range.count, startingAt: heldStartBeforeReset)
                    return .bodyLookbehind(range)
                case .delimiter(let close):
                    let wasSkipping = skippingPart
                    if close {
                        enterEpilogue(at: base + position)
                        if wasSkipping { return .end }
                        endPending = true
                        return .partEnd
                    }
                    try beginHeaders(at: base + position)
                    if !wasSkipping { return .partEnd }
                }
            case .epilogue:
                let epilogueBytes = base + end - epilogueStart
                if epilogueBytes > limits.epilogueBytes {
                    position = epilogueStart + limits.epilogueBytes - base
                    throw limitError(.epilogueBytes, at: epilogueStart + limits.epilogueBytes, "the epilogue after the close delimiter is longer than the limit")
                }
                position = end
                return nil
            }
        }
        return nil
    }

    private mutating func enterEpilogue(at offset: Int) {
        phase = .epilogue
        epilogueStart = offset
    }

    private mutating func beginHeaders(at offset: Int) throws(MultipartError) {
        if partCount >= limits.parts {
            throw limitError(.parts, at: offset, "the body has more parts than the limit")
        }
        partCount += 1
        phase = .headers
        if !headerBuffer.isEmpty { headerBuffer.removeAll(keepingCapacity: true) }
        headerStart = offset
        headerBytes = 0
        headerLines = 0
        lineLength = 0
    }

    private mutating func countPartBytes(_ count: Int, startingAt offset: Int) throws(MultipartError) {
        partBytes += count
        if partBytes > partLimit {
            let overflowOffset = offset + count - (partBytes - partLimit)
            let what = partLimitKind == .fileBytes ? "file" : "non-file field"
            throw limitError(partLimitKind, at: overflowOffset, "the data of \(what) part \(partCount - 1) is larger than the limit")
        }
    }

    private func limitError(_ limit: MultipartLimits.Limit, at offset: Int, _ what: String) -> MultipartError {
        let value = limits[limit] ?? 0
        return MultipartError(.limitExceeded(limit), offset: offset, limitValue: value, "\(what) (\(limit) = \(value)); raise the \(limit) limit if this body is legitimate")
    }

    // MARK: - Headers

    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")

    /// Reads header lines until the empty line that ends the block; returns the part's
    /// ``MultipartEvent/partBegin(_:)``, or `nil` when the chunk is used up or the part is skipped.
    ///
    /// Works a line at a time: a tight search for LF, then one check per line. `lineLength` and
    /// `lineFirstByte` carry a line cut by the chunk's end.
    private mutating func readHeaders(_ chunk: UnsafeRawBufferPointer, _ position: inout Int, base: Int, end: Int) throws(MultipartError) -> MultipartEvent? {
        let bytes = chunk.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let blockStart = position
        // The first index that would make the block (its empty line included) larger than the limit.
        let limitIndex = blockStart + (limits.headerBytes - headerBytes)
        let searchEnd = min(end, limitIndex)
        var lineStart = position
        while lineStart < end {
            if lineStart >= limitIndex {
                throw limitError(.headerBytes, at: headerStart + limits.headerBytes, "the header block of part \(partCount - 1) is larger than the limit")
            }
            if lineLength == 0 {
                let first = bytes[lineStart]
                lineFirstByte = first
                if first != Self.cr && first != Self.lf && !ByteClass.isWhitespace(first) {
                    headerLines += 1
                    if headerLines > limits.headerCount {
                        throw limitError(.headerCount, at: base + lineStart, "part \(partCount - 1) has more header lines than the limit")
                    }
                }
            }
            var lf = lineStart
            while lf < searchEnd && bytes[lf] != Self.lf { lf += 1 }
            if lf == limitIndex {
                throw limitError(.headerBytes, at: headerStart + limits.headerBytes, "the header block of part \(partCount - 1) is larger than the limit")
            }
            if lf == end {
                // The line goes on in the next chunk.
                lineLength += lf - lineStart
                break
            }
            let length = lineLength + (lf - lineStart)
            if length == 0 || (length == 1 && lineFirstByte == Self.cr) {
                // The empty line: the block is complete.
                let emptyLineStart = lf - length
                position = lf + 1
                let outcome: HeaderBlock.Outcome
                if headerBuffer.isEmpty && emptyLineStart >= blockStart {
                    outcome = try HeaderBlock.parse(UnsafeRawBufferPointer(rebasing: chunk[blockStart..<emptyLineStart]), offset: headerStart, index: partCount - 1, strict: options.strict)
                } else {
                    try appendHeaderBytes(chunk, blockStart..<lf + 1)
                    headerBuffer.removeLast(length + 1)  // the empty line itself
                    outcome = try parseBufferedHeaderBlock()
                }
                return beginBody(outcome)
            }
            lineLength = 0
            lineStart = lf + 1
        }
        try appendHeaderBytes(chunk, blockStart..<end)
        position = end
        return nil
    }

    private func parseBufferedHeaderBlock() throws(MultipartError) -> HeaderBlock.Outcome {
        let parsed = headerBuffer.withUnsafeBytes { block in
            Result { () throws(MultipartError) in
                try HeaderBlock.parse(block, offset: headerStart, index: partCount - 1, strict: options.strict)
            }
        }
        return try parsed.get()
    }

    private mutating func appendHeaderBytes(_ chunk: UnsafeRawBufferPointer, _ range: Range<Int>) throws(MultipartError) {
        guard !range.isEmpty else { return }
        let needed = headerBuffer.count + range.count
        if needed > headerBuffer.capacity {
            // Grow geometrically but never past the limit, so a header block never holds more
            // than the limit allows.
            headerBuffer.reserveCapacity(min(limits.headerBytes + 2, max(needed, headerBuffer.capacity * 2, 256)))
        }
        headerBuffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[range]))
        headerBytes = headerBuffer.count
    }

    private mutating func beginBody(_ outcome: HeaderBlock.Outcome) -> MultipartEvent? {
        phase = .body
        partBytes = 0
        headerBytes = 0
        if headerBuffer.capacity > 4096 {
            headerBuffer = []
        } else if !headerBuffer.isEmpty {
            headerBuffer.removeAll(keepingCapacity: true)
        }
        switch outcome {
        case .skip:
            skippingPart = true
            partLimit = limits.fieldBytes
            partLimitKind = .fieldBytes
            return nil
        case .part(let part):
            skippingPart = false
            if part.isFile {
                partLimit = limits.fileBytes ?? .max
                partLimitKind = .fileBytes
            } else {
                partLimit = limits.fieldBytes
                partLimitKind = .fieldBytes
            }
            return .partBegin(part)
        }
    }

    // MARK: - Delimiter matching

    private enum ScanResult {
        /// `chunk[range]` is data.
        case data(Range<Int>)
        /// `lookbehind[range]` is data.
        case lookbehindData(Range<Int>)
        /// A delimiter was read up to its line break (or `--` for the close delimiter).
        case delimiter(close: Bool)
        /// The chunk is used up.
        case needInput
    }

    /// The offset of the first held byte, as it was before the last reset (for the result that
    /// reset it).
    private var heldStartBeforeReset = 0

    private var needleLength: Int { delimiterLength - needleStart }

    /// The lookbehind range of the held bytes.
    private var heldRange: Range<Int> {
        let tail = matched == needleLength ? lookbehind.count - delimiterLength : 0
        return (heldCR ? 0 : needleStart)..<(needleStart + matched + tail)
    }

    private mutating func resetMatcher() {
        heldStartBeforeReset = heldStart
        matched = 0
        heldCR = false
        virtualHeld = 0
    }

    /// Drops the bytes read after the last boundary; done when a new boundary is matched, not at
    /// reset, since a ``MultipartEvent/bodyLookbehind(_:)`` range may still point at them.
    private mutating func clearTail() {
        if lookbehind.count > delimiterLength {
            lookbehind.removeLast(lookbehind.count - delimiterLength)
        }
    }

    private mutating func scan(_ chunk: UnsafeRawBufferPointer, _ position: inout Int, base: Int, end: Int) throws(MultipartError) -> ScanResult {
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

    private enum TailResult {
        case needInput, notDelimiter, bareLineFeed
        case delimiter(close: Bool)
    }

    /// Reads the bytes after a whole boundary: `--` (close delimiter), or transport padding and a
    /// line break (delimiter). Bytes read are appended to ``lookbehind`` in case they are data.
    private mutating func readTail(_ bytes: UnsafePointer<UInt8>, _ position: inout Int, end: Int) -> TailResult {
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
