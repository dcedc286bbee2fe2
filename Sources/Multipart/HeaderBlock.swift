/// Validates one part's header block (its lines, without the empty line that ends it) and reads
/// what the parser needs from it, straight from the bytes: the per-part cost decides how many
/// small fields a second the parser takes.
enum HeaderBlock {
    enum Outcome {
        case part(MultipartPart)
        /// Content-Disposition is present but empty: lenient parsing skips the part, as busboy does.
        case skip
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    /// One line: a header's name and trimmed value, or (with an empty name) a continuation line.
    struct Line {
        var name: Range<Int>
        var value: Range<Int>
        var isContinuation: Bool { name.isEmpty }
    }

    /// Calls `visit` with each line of `block`, after checking it: lines end in LF (CRLF when
    /// strict), hold no other CR, and are `token ":" value` or a continuation of the line before.
    static func forEachLine(
        _ block: UnsafeRawBufferPointer, offset: Int, index: Int, strict: Bool,
        _ visit: (Line) throws(MultipartError) -> Void
    ) throws(MultipartError) {
        var lineStart = 0
        var sawHeader = false
        while lineStart < block.count {
            let first = block[lineStart]
            if ByteClass.isWhitespace(first) {
                guard sawHeader else {
                    throw MultipartError(.invalidHeader, offset: offset + lineStart, "the first header line of part \(index) starts with white space")
                }
                if strict {
                    throw MultipartError(.foldedHeader, offset: offset + lineStart, "a header of part \(index) is folded onto a continuation line (obsolete; strict mode rejects it)")
                }
                let (lineEnd, next) = try lineEnd(block, from: lineStart, offset: offset, index: index, strict: strict)
                try visit(Line(name: lineStart..<lineStart, value: trimmed(block, lineStart..<lineEnd)))
                lineStart = next
                continue
            }
            // One pass: the name's bytes must be tokens up to ':'.
            var colon = lineStart
            while true {
                let byte = block[colon]
                if byte == UInt8(ascii: ":") { break }
                guard ByteClass.isToken(byte) else {
                    if byte == lf || byte == cr {
                        throw MultipartError(.invalidHeader, offset: offset + lineStart, "header line of part \(index) has no ':'")
                    }
                    throw MultipartError(.invalidHeader, offset: offset + colon, "header name of part \(index) has byte 0x\(String(byte, radix: 16)), which is not allowed in a header name")
                }
                colon += 1
            }
            guard colon > lineStart else {
                throw MultipartError(.invalidHeader, offset: offset + lineStart, "header line of part \(index) has an empty name before ':'")
            }
            let (lineEnd, next) = try lineEnd(block, from: colon + 1, offset: offset, index: index, strict: strict)
            sawHeader = true
            try visit(Line(name: lineStart..<colon, value: trimmed(block, (colon + 1)..<lineEnd)))
            lineStart = next
        }
    }

    /// The end of the line holding `start` (without its CRLF or LF) and the start of the next,
    /// checking that no CR stands anywhere but before the LF.
    @inline(__always)
    private static func lineEnd(_ block: UnsafeRawBufferPointer, from start: Int, offset: Int, index: Int, strict: Bool) throws(MultipartError) -> (Int, Int) {
        var position = start
        while true {
            let byte = block[position]  // every line in the block ends in LF
            if byte == lf {
                if strict {
                    throw MultipartError(.bareLineFeed, offset: offset + position, "header line of part \(index) ends in LF without CR (strict mode requires CRLF)")
                }
                return (position, position + 1)
            }
            if byte == cr {
                if block[position + 1] == lf { return (position, position + 2) }
                throw MultipartError(.invalidHeader, offset: offset + position, "header line of part \(index) has a CR that is not followed by LF")
            }
            position += 1
        }
    }

    /// The headers of a block that ``parse(_:offset:index:strict:)`` accepted, unfolded, in order.
    static func headers(of block: UnsafeRawBufferPointer) -> [MultipartHeader] {
        var headers: [MultipartHeader] = []
        var folded: [UInt8]? = nil
        func finishFolded() {
            if let bytes = folded {
                headers[headers.count - 1].value = HeaderText.decode(bytes)
                folded = nil
            }
        }
        try? forEachLine(block, offset: 0, index: 0, strict: false) { line in
            let value = UnsafeRawBufferPointer(rebasing: block[line.value])
            if line.isContinuation {
                var bytes = folded ?? Array(headers[headers.count - 1].value.utf8)
                if !value.isEmpty {
                    if !bytes.isEmpty { bytes.append(0x20) }
                    bytes.append(contentsOf: value)
                }
                folded = bytes
                return
            }
            finishFolded()
            headers.append(MultipartHeader(name: String(decoding: UnsafeRawBufferPointer(rebasing: block[line.name]), as: UTF8.self), value: HeaderText.decode(value)))
        }
        finishFolded()
        return headers
    }

    private static func trimmed(_ block: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int> {
        var start = range.lowerBound
        var end = range.upperBound
        while start < end && ByteClass.isWhitespace(block[start]) { start += 1 }
        while end > start && ByteClass.isWhitespace(block[end - 1]) { end -= 1 }
        return start..<end
    }

    /// The values of the headers the parser reads, as ranges of the block.
    private struct KnownHeaders {
        enum Kind { case disposition, contentType, transferEncoding }
        var disposition: Range<Int>? = nil
        var contentType: Range<Int>? = nil
        var transferEncoding: Range<Int>? = nil

        /// Records `line`; returns whether it is a known header. Throws on a second one of a kind.
        mutating func note(_ line: Line, in block: UnsafeRawBufferPointer, offset: Int, index: Int) throws(MultipartError) -> Bool {
            let name = UnsafeRawBufferPointer(rebasing: block[line.name])
            let duplicate: Bool
            if asciiEqualsLowercase(name, "content-disposition") {
                duplicate = disposition != nil
                disposition = line.value
            } else if asciiEqualsLowercase(name, "content-type") {
                duplicate = contentType != nil
                contentType = line.value
            } else if asciiEqualsLowercase(name, "content-transfer-encoding") {
                duplicate = transferEncoding != nil
                transferEncoding = line.value
            } else {
                return false
            }
            if duplicate {
                throw MultipartError(.duplicateHeader, offset: offset + line.name.lowerBound, "part \(index) has two \(String(decoding: name, as: UTF8.self)) headers")
            }
            return true
        }
    }

    /// Parses a header block.
    ///
    /// - Parameters:
    ///   - block: the header lines, each with its line ending.
    ///   - offset: the block's byte offset in the body, for errors.
    static func parse(_ block: UnsafeRawBufferPointer, offset: Int, index: Int, strict: Bool) throws(MultipartError) -> Outcome {
        var known = KnownHeaders()
        var lastWasKnown = false
        var knownIsFolded = false
        try forEachLine(block, offset: offset, index: index, strict: strict) { (line) throws(MultipartError) in
            if line.isContinuation {
                knownIsFolded = knownIsFolded || lastWasKnown
            } else {
                lastWasKnown = try known.note(line, in: block, offset: offset, index: index)
            }
        }
        if knownIsFolded {
            // Rare: read the known headers from an unfolded copy of the block.
            let unfolded = headers(of: block).map { "\($0.name): \($0.value)\r\n" }.joined()
            let reparsed = Array(unfolded.utf8).withUnsafeBytes { copy in
                Result { () throws(MultipartError) in try parse(copy, offset: offset, index: index, strict: strict) }
            }
            switch try reparsed.get() {
            case .skip: return .skip
            case .part(let part):
                return .part(part.replacingRawHeaderBlock(block))
            }
        }
        return try interpret(block, known, offset: offset, index: index, strict: strict)
    }

    private static func interpret(_ block: UnsafeRawBufferPointer, _ known: KnownHeaders, offset: Int, index: Int, strict: Bool) throws(MultipartError) -> Outcome {
        guard let dispositionRange = known.disposition else {
            throw MultipartError(
                .missingContentDisposition, offset: offset, "part \(index) has no Content-Disposition header; each form-data part needs 'Content-Disposition: form-data; name=\"...\"'")
        }
        if dispositionRange.isEmpty {
            if strict {
                throw MultipartError(.notFormData, offset: offset, "part \(index) has an empty Content-Disposition header")
            }
            return .skip
        }
        let disposition = UnsafeRawBufferPointer(rebasing: block[dispositionRange])
        var name: String? = nil
        var filename: String? = nil
        var extendedFilename: String? = nil
        var others: DuplicateNames? = nil
        let leading: Range<Int>
        do {
            leading = try ParameterScanner.scan(disposition, leadingIsMediaType: false, strict: strict) { (nameRange, value, _) throws(ParameterScanner.Failure) in
                let parameter = UnsafeRawBufferPointer(rebasing: disposition[nameRange])
                let duplicate: Bool
                if asciiEqualsLowercase(parameter, "name") {
                    duplicate = name != nil
                    name = value.decoded(in: disposition)
                } else if asciiEqualsLowercase(parameter, "filename") {
                    duplicate = filename != nil
                    filename = value.decoded(in: disposition)
                } else if asciiEqualsLowercase(parameter, "filename*") {
                    duplicate = extendedFilename != nil
                    extendedFilename = value.decoded(in: disposition)
                } else {
                    if others == nil { others = DuplicateNames() }
                    duplicate = !others!.insert(lowercasedASCII(String(decoding: parameter, as: UTF8.self)))
                }
                if duplicate {
                    throw ParameterScanner.Failure(kind: .duplicate, offset: nameRange.lowerBound, message: "parameter '\(String(decoding: parameter, as: UTF8.self))' appears twice")
                }
            }
        } catch {
            let code: MultipartError.Code = error.kind == .duplicate ? .duplicateParameter : .invalidParameters
            throw MultipartError(code, offset: offset + dispositionRange.lowerBound + error.offset, "Content-Disposition of part \(index): \(error.message)")
        }
        guard asciiEqualsLowercase(UnsafeRawBufferPointer(rebasing: disposition[leading]), "form-data") else {
            throw MultipartError(
                .notFormData, offset: offset + dispositionRange.lowerBound,
                "part \(index) has Content-Disposition '\(HeaderText.decode(UnsafeRawBufferPointer(rebasing: disposition[leading])))'; multipart/form-data parts must be 'form-data'")
        }
        guard let name else {
            throw MultipartError(.missingName, offset: offset + dispositionRange.lowerBound, "part \(index) has no name parameter in its Content-Disposition")
        }
        var filenameStar: String? = nil
        if let extendedFilename {
            do {
                filenameStar = try ExtendedValue.decode(extendedFilename)
            } catch {
                throw MultipartError(.invalidExtendedFilename, offset: offset + dispositionRange.lowerBound, "part \(index): \(error.message)")
            }
        }
        var encoding = MultipartTransferEncoding.identity
        if let range = known.transferEncoding {
            let value = UnsafeRawBufferPointer(rebasing: block[range])
            if asciiEqualsLowercase(value, "base64") {
                encoding = .base64
            } else if asciiEqualsLowercase(value, "quoted-printable") {
                encoding = .quotedPrintable
            } else if !(asciiEqualsLowercase(value, "binary") || asciiEqualsLowercase(value, "8bit") || asciiEqualsLowercase(value, "7bit")) {
                throw MultipartError(
                    .unsupportedTransferEncoding, offset: offset + range.lowerBound,
                    "part \(index) has Content-Transfer-Encoding '\(HeaderText.decode(value))'; only 7bit, 8bit, binary, base64 and quoted-printable are supported")
            }
        }
        return .part(
            MultipartPart(
                rawHeaderBlock: block,
                name: name,
                filename: filename ?? filenameStar,
                filenameStar: filenameStar,
                contentType: known.contentType.map { HeaderText.decode(UnsafeRawBufferPointer(rebasing: block[$0])) },
                transferEncoding: encoding,
                index: index,
                offset: offset
            ))
    }
}

/// `text` with ASCII letters lowercased, other characters untouched.
func lowercasedASCII(_ text: String) -> String {
    if !text.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { return text }
    return String(decoding: text.utf8.map(\.asciiLowercased), as: UTF8.self)
}
