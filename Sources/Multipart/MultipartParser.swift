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
    public internal(set) var lookbehind: [UInt8]

    enum Phase: Sendable {
        case preamble, headers, body, epilogue
    }

    let search: DelimiterSearch
    /// Where the searched needle starts in ``lookbehind``: 1 (LF) when lenient, 0 (CR) when strict.
    let needleStart: Int
    /// `lookbehind.count` without tail bytes: `CRLF -- boundary`.
    let delimiterLength: Int

    var phase: Phase = .preamble
    var failure: MultipartError? = nil
    var endPending = false
    /// Absolute offset of the next byte to read.
    var consumed = 0

    // A possible delimiter held at a chunk's end (see MultipartParser+Delimiter.swift).
    /// Needle bytes matched so far; the needle's length means a whole boundary was read.
    var matched: Int
    /// Whether a CR before the matched bytes (lenient mode, where the needle starts at LF) is held too.
    var heldCR = false
    /// The body offset of the first held byte.
    var heldStart = 0
    /// Held bytes that were never in the body: the line break assumed before a body that starts
    /// with `--boundary`.
    var virtualHeld: Int
    /// `heldStart` of the held run the matcher last resolved (to data or a delimiter): the offset
    /// reported with that result.
    var resolvedHeldStart = 0

    // The current part.
    var partCount = 0
    var partBytes = 0
    var partLimit = Int.max
    var partLimitKind = MultipartLimits.Limit.fieldBytes
    /// Data bytes of the parts before the current one that were not files.
    var fieldsBytesSoFar = 0
    var skippingPart = false

    // The current header block.
    var headerBuffer: [UInt8] = []
    var headerStart = 0
    var headerBytes = 0
    var headerLines = 0
    var lineLength = 0
    var lineFirstByte: UInt8 = 0

    var epilogueStart = 0

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
    public var lookbehindOffset: Int { resolvedHeldStart }

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
            error = MultipartError(
                .truncatedBody, offset: consumed,
                consumed == 0
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

    mutating func step(_ chunk: UnsafeRawBufferPointer, _ position: inout Int, base: Int, end: Int) throws(MultipartError) -> MultipartEvent? {
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
                    preambleEnd = resolvedHeldStart + range.count - virtual
                case .delimiter(let close):
                    if resolvedHeldStart > limits.preambleBytes {
                        throw limitError(.preambleBytes, at: limits.preambleBytes, "the preamble before the first boundary is longer than the limit")
                    }
                    if close {
                        guard resolvedHeldStart == 0 else {
                            throw MultipartError(
                                .missingFirstBoundary, offset: resolvedHeldStart,
                                "the first boundary line is the close delimiter '--\(boundary)--' after \(resolvedHeldStart) bytes of preamble: the body has no parts. Does the first line of the body match the boundary?"
                            )
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
                    try countPartBytes(range.count, startingAt: resolvedHeldStart)
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

    mutating func enterEpilogue(at offset: Int) {
        phase = .epilogue
        epilogueStart = offset
    }

    mutating func beginHeaders(at offset: Int) throws(MultipartError) {
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

    mutating func countPartBytes(_ count: Int, startingAt offset: Int) throws(MultipartError) {
        partBytes += count
        if partBytes > partLimit {
            let overflowOffset = offset + count - (partBytes - partLimit)
            switch partLimitKind {
            case .fileBytes: throw limitError(.fileBytes, at: overflowOffset, "the data of file part \(partCount - 1) is larger than the limit")
            case .fieldsBytes: throw limitError(.fieldsBytes, at: overflowOffset, "the non-file fields up to part \(partCount - 1) hold more data together than the limit")
            default: throw limitError(partLimitKind, at: overflowOffset, "the data of non-file field part \(partCount - 1) is larger than the limit")
            }
        }
    }

    func limitError(_ limit: MultipartLimits.Limit, at offset: Int, _ what: String) -> MultipartError {
        let value = limits[limit] ?? 0
        return MultipartError(.limitExceeded(limit), offset: offset, limitValue: value, "\(what) (\(limit) = \(value)); raise the \(limit) limit if this body is legitimate")
    }
}
