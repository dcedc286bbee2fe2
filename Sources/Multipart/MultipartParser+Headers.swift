// The header phase of MultipartParser: finding the end of a part's header block, within its limits.

extension MultipartParser {
    static let lf = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")

    /// Reads header lines until the empty line that ends the block; returns the part's
    /// ``MultipartEvent/partBegin(_:)``, or `nil` when the chunk is used up or the part is skipped.
    ///
    /// Works a line at a time: a tight search for LF, then one check per line. `lineLength` and
    /// `lineFirstByte` carry a line cut by the chunk's end.
    mutating func readHeaders(_ chunk: UnsafeRawBufferPointer, _ position: inout Int, base: Int, end: Int) throws(MultipartError) -> MultipartEvent? {
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

    func parseBufferedHeaderBlock() throws(MultipartError) -> HeaderBlock.Outcome {
        let parsed = headerBuffer.withUnsafeBytes { block in
            Result { () throws(MultipartError) in
                try HeaderBlock.parse(block, offset: headerStart, index: partCount - 1, strict: options.strict)
            }
        }
        return try parsed.get()
    }

    mutating func appendHeaderBytes(_ chunk: UnsafeRawBufferPointer, _ range: Range<Int>) throws(MultipartError) {
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

    mutating func beginBody(_ outcome: HeaderBlock.Outcome) -> MultipartEvent? {
        phase = .body
        if partLimitKind != .fileBytes { fieldsBytesSoFar += partBytes }  // the part before this one
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
            limitFieldPart()
            return nil
        case .part(let part):
            skippingPart = false
            if part.isFile {
                partLimit = limits.fileBytes ?? .max
                partLimitKind = .fileBytes
            } else {
                limitFieldPart()
            }
            return .partBegin(part)
        }
    }

    /// A part that is not a file may hold the smaller of its own limit and what is left of all fields'.
    private mutating func limitFieldPart() {
        let left = max(limits.fieldsBytes - fieldsBytesSoFar, 0)
        if left < limits.fieldBytes {
            partLimit = left
            partLimitKind = .fieldsBytes
        } else {
            partLimit = limits.fieldBytes
            partLimitKind = .fieldBytes
        }
    }
}
