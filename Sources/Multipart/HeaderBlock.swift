/// Parses one part's header block (its lines, without the empty line that ends it) into a
/// ``MultipartPart``.
enum HeaderBlock {
    enum Outcome {
        case part(MultipartPart)
        /// Content-Disposition is present but empty: lenient parsing skips the part, as busboy does.
        case skip
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    /// - Parameters:
    ///   - block: the header lines, each with its line ending.
    ///   - offset: the block's byte offset in the body, for errors.
    /// The headers whose meaning the parser needs, by their index in the header list.
    private struct KnownHeaders {
        var disposition: Int? = nil
        var contentType: Int? = nil
        var transferEncoding: Int? = nil

        /// Records that header `position` is named `name`; throws on a second one of a kind.
        mutating func note(_ name: UnsafeRawBufferPointer, at position: Int, offset: Int, index: Int) throws(MultipartError) {
            var existing: Int?
            if asciiEqualsLowercase(name, "content-disposition") {
                existing = disposition
                disposition = disposition ?? position
            } else if asciiEqualsLowercase(name, "content-type") {
                existing = contentType
                contentType = contentType ?? position
            } else if asciiEqualsLowercase(name, "content-transfer-encoding") {
                existing = transferEncoding
                transferEncoding = transferEncoding ?? position
            } else {
                existing = nil
            }
            if existing != nil {
                throw MultipartError(.duplicateHeader, offset: offset, "part \(index) has two \(String(decoding: name, as: UTF8.self)) headers")
            }
        }
    }

    static func parse(_ block: UnsafeRawBufferPointer, offset: Int, index: Int, strict: Bool) throws(MultipartError) -> Outcome {
        var known = KnownHeaders()
        var headers: [MultipartHeader] = []
        headers.reserveCapacity(4)
        // Value bytes of the last header while it may still be folded.
        var folded: [UInt8]? = nil
        var lineStart = 0

        func finishFolded() {
            if let bytes = folded {
                headers[headers.count - 1].value = HeaderText.decode(bytes)
                folded = nil
            }
        }

        while lineStart < block.count {
            var lineEnd = lineStart
            while block[lineEnd] != lf { lineEnd += 1 }  // every line in the block ends in LF
            let next = lineEnd + 1
            if lineEnd > lineStart && block[lineEnd - 1] == cr {
                lineEnd -= 1
            } else if strict {
                throw MultipartError(.bareLineFeed, offset: offset + lineEnd, "header line of part \(index) ends in LF without CR (strict mode requires CRLF)")
            }
            let line = UnsafeRawBufferPointer(rebasing: block[lineStart..<lineEnd])
            if let bareCR = line.firstIndex(of: cr) {
                throw MultipartError(.invalidHeader, offset: offset + lineStart + bareCR, "header line of part \(index) has a CR that is not followed by LF")
            }
            if ByteClass.isWhitespace(line[0]) {
                guard !headers.isEmpty else {
                    throw MultipartError(.invalidHeader, offset: offset + lineStart, "the first header line of part \(index) starts with white space")
                }
                if strict {
                    throw MultipartError(.foldedHeader, offset: offset + lineStart, "header '\(headers[headers.count - 1].name)' of part \(index) is folded onto a continuation line (obsolete; strict mode rejects it)")
                }
                var bytes = folded ?? Array(headers[headers.count - 1].value.utf8)
                let continuation = trimmed(line)
                if !continuation.isEmpty {
                    if !bytes.isEmpty { bytes.append(0x20) }
                    bytes.append(contentsOf: continuation)
                }
                folded = bytes
                lineStart = next
                continue
            }
            finishFolded()
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw MultipartError(.invalidHeader, offset: offset + lineStart, "header line of part \(index) has no ':'")
            }
            let nameBytes = UnsafeRawBufferPointer(rebasing: line[0..<colon])
            guard !nameBytes.isEmpty else {
                throw MultipartError(.invalidHeader, offset: offset + lineStart, "header line of part \(index) has an empty name before ':'")
            }
            if let bad = nameBytes.firstIndex(where: { !ByteClass.isToken($0) }) {
                throw MultipartError(.invalidHeader, offset: offset + lineStart + bad, "header name of part \(index) has byte 0x\(String(nameBytes[bad], radix: 16)), which is not allowed in a header name")
            }
            let value = trimmed(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
            try known.note(nameBytes, at: headers.count, offset: offset + lineStart, index: index)
            headers.append(MultipartHeader(name: String(decoding: nameBytes, as: UTF8.self), value: HeaderText.decode(value)))
            lineStart = next
        }
        finishFolded()
        return try interpret(headers, known, offset: offset, index: index, strict: strict)
    }

    private static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end && ByteClass.isWhitespace(bytes[start]) { start += 1 }
        while end > start && ByteClass.isWhitespace(bytes[end - 1]) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    private static func interpret(_ headers: [MultipartHeader], _ known: KnownHeaders, offset: Int, index: Int, strict: Bool) throws(MultipartError) -> Outcome {
        let disposition = known.disposition.map { headers[$0].value }
        let contentType = known.contentType.map { headers[$0].value }
        let transferEncoding = known.transferEncoding.map { headers[$0].value }

        guard let disposition else {
            throw MultipartError(.missingContentDisposition, offset: offset, "part \(index) has no Content-Disposition header; each form-data part needs 'Content-Disposition: form-data; name=\"...\"'")
        }
        if disposition.isEmpty {
            if strict {
                throw MultipartError(.notFormData, offset: offset, "part \(index) has an empty Content-Disposition header")
            }
            return .skip
        }
        var dispositionText = disposition
        let parsed = dispositionText.withUTF8 { buffer in
            Result { () throws(ParameterizedValue.Failure) in
                try ParameterizedValue.parse(UnsafeRawBufferPointer(buffer), leadingIsMediaType: false, strict: strict)
            }
        }
        let value: ParameterizedValue
        switch parsed {
        case .success(let parsedValue):
            value = parsedValue
        case .failure(let failure):
            let code: MultipartError.Code = failure.kind == .duplicate ? .duplicateParameter : .invalidParameters
            throw MultipartError(code, offset: offset, "Content-Disposition of part \(index): \(failure.message)")
        }
        guard value.leading == "form-data" || lowercasedASCII(value.leading) == "form-data" else {
            throw MultipartError(.notFormData, offset: offset, "part \(index) has Content-Disposition '\(value.leading)'; multipart/form-data parts must be 'form-data'")
        }
        guard let name = value.parameter("name") else {
            throw MultipartError(.missingName, offset: offset, "part \(index) has no name parameter in its Content-Disposition")
        }
        var filenameStar: String? = nil
        if let extended = value.parameter("filename*") {
            do {
                filenameStar = try ExtendedValue.decode(extended.value)
            } catch {
                throw MultipartError(.invalidExtendedFilename, offset: offset, "part \(index): \(error.message)")
            }
        }
        let encoding: MultipartTransferEncoding
        switch transferEncoding.map(lowercasedASCII) {
        case nil, "7bit", "8bit", "binary": encoding = .identity
        case "base64": encoding = .base64
        case "quoted-printable": encoding = .quotedPrintable
        case let other?:
            throw MultipartError(.unsupportedTransferEncoding, offset: offset, "part \(index) has Content-Transfer-Encoding '\(other)'; only 7bit, 8bit, binary, base64 and quoted-printable are supported")
        }
        return .part(MultipartPart(
            headers: headers,
            name: name.value,
            filename: value.parameter("filename")?.value ?? filenameStar,
            filenameStar: filenameStar,
            contentType: contentType,
            transferEncoding: encoding,
            dispositionParameters: value.parameters,
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
