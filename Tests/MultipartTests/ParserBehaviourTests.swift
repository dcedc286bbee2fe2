import Multipart
import Testing

/// What the parser accepts, rejects and reports, one behaviour per test.
@Suite struct ParserBehaviourTests {
    let feeder = BodyFeeder()
    var strict: BodyFeeder {
        var feeder = BodyFeeder()
        feeder.options.strict = true
        return feeder
    }

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func emptyFormIsZeroParts() {
        #expect(feeder.parseWhole(bytes("--B--\r\n"), contentType: "multipart/form-data; boundary=B") == .parts([]))
        #expect(feeder.parseWhole(bytes("\r\n--B--"), contentType: "multipart/form-data; boundary=B") == .parts([]))
    }

    @Test func closeDelimiterAfterPreambleIsMissingFirstBoundary() {
        let outcome = feeder.parseWhole(bytes("--A\r\nx\r\n--B--"), contentType: "multipart/form-data; boundary=B")
        #expect(outcome.error?.code == .missingFirstBoundary)
        #expect(outcome.error?.offset == 6)
    }

    @Test func preambleAndEpilogueAreSkipped() {
        let body = bytes("preamble text\r\n--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B--\r\nepilogue")
        #expect(feeder.parseWhole(body, contentType: "multipart/form-data; boundary=B").parts?.map(\.data) == [bytes("1")])
    }

    @Test func transportPaddingAfterBoundaryIsAccepted() {
        let body = bytes("--B \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B  \r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n--B--")
        let outcome = feeder.parseWhole(body, contentType: "multipart/form-data; boundary=B")
        #expect(outcome.parts?.map(\.data) == [bytes("1"), bytes("2")])
        #expect(feeder.parseByteByByte(body, contentType: "multipart/form-data; boundary=B") == outcome)
    }

    @Test func paddingLongerThanTheMaximumMeansData() {
        let padding = String(repeating: " ", count: MultipartParser.maximumTransportPadding + 1)
        let data = "\r\n--B\(padding)\r\nmore"
        let body = bytes("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\(data)\r\n--B--")
        let outcome = feeder.parseWhole(body, contentType: "multipart/form-data; boundary=B")
        #expect(outcome.parts?.first?.data == bytes(data))
        #expect(feeder.parseByteByByte(body, contentType: "multipart/form-data; boundary=B") == outcome)
    }

    @Test func lfOnlyLineBreaksAreAcceptedLenientlyAndRejectedStrictly() {
        let body = bytes("--B\nContent-Disposition: form-data; name=\"a\"\n\nvalue\n--B--\n")
        #expect(feeder.parseWhole(body, contentType: "multipart/form-data; boundary=B").parts?.first?.data == bytes("value"))
        #expect(strict.parseWhole(body, contentType: "multipart/form-data; boundary=B").error?.code == .bareLineFeed)
    }

    @Test func foldedHeaderIsUnfoldedLenientlyAndRejectedStrictly() {
        let body = bytes("--B\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nv\r\n--B--")
        #expect(feeder.parseWhole(body, contentType: "multipart/form-data; boundary=B").parts?.first?.part.name == "a")
        #expect(strict.parseWhole(body, contentType: "multipart/form-data; boundary=B").error?.code == .foldedHeader)
    }

    @Test func emptyContentDispositionSkipsThePartLenientlyAndIsAnErrorStrictly() {
        let body = bytes("--B\r\nContent-Disposition:\r\n\r\nskipped\r\n--B\r\nContent-Disposition: form-data; name=\"kept\"\r\n\r\nk\r\n--B--")
        let outcome = feeder.parseWhole(body, contentType: "multipart/form-data; boundary=B")
        #expect(outcome.parts?.map(\.part.name) == ["kept"])
        #expect(strict.parseWhole(body, contentType: "multipart/form-data; boundary=B").error?.code == .notFormData)
    }

    @Test func missingContentDispositionIsAnError() {
        let outcome = feeder.parseWhole(bytes("--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--"), contentType: "multipart/form-data; boundary=B")
        #expect(outcome.error?.code == .missingContentDisposition)
        #expect(outcome.error?.offset == 5)
    }

    @Test func dispositionOtherThanFormDataIsAnError() {
        let outcome = feeder.parseWhole(bytes("--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--B--"), contentType: "multipart/form-data; boundary=B")
        #expect(outcome.error?.code == .notFormData)
    }

    @Test func partWithoutNameIsAnError() {
        let outcome = feeder.parseWhole(bytes("--B\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n--B--"), contentType: "multipart/form-data; boundary=B")
        #expect(outcome.error?.code == .missingName)
    }

    @Test func duplicateContentTypeHeaderIsAnError() {
        let body = BodyBuilder.single(headers: ["Content-Disposition: form-data; name=\"a\"", "Content-Type: text/plain", "content-type: text/html"])
        #expect(feeder.parseWhole(body.bytes, contentType: body.contentType).error?.code == .duplicateHeader)
    }

    @Test func headersAreKeptInOrderWithTheirNamesAsSent() {
        let body = BodyBuilder.single(headers: ["content-disposition: form-data; name=a", "X-Custom:value", "Content-Type:  text/plain  "])
        let part = feeder.parseWhole(body.bytes, contentType: body.contentType).parts?.first?.part
        #expect(
            part?.headers == [
                MultipartHeader(name: "content-disposition", value: "form-data; name=a"),
                MultipartHeader(name: "X-Custom", value: "value"),
                MultipartHeader(name: "Content-Type", value: "text/plain"),
            ])
        #expect(part?.header("x-custom") == "value")
        #expect(part?.contentType == "text/plain")
    }

    @Test func invalidUTF8HeaderBytesAreDecodedAsLatin1() {
        var body: [UInt8] = bytes("--B\r\nContent-Disposition: form-data; name=\"a\"; filename=\"caf")
        body += [0xE9]  // é in ISO-8859-1, invalid on its own in UTF-8
        body += bytes(".txt\"\r\n\r\nx\r\n--B--")
        let part = feeder.parseWhole(body, contentType: "multipart/form-data; boundary=B").parts?.first?.part
        #expect(part?.filename == "café.txt")
    }

    @Test func utf8HeaderBytesAreDecodedAsUTF8() {
        let body = BodyBuilder.single(headers: ["Content-Disposition: form-data; name=\"a\"; filename=\"日本.txt\""])
        #expect(feeder.parseWhole(body.bytes, contentType: body.contentType).parts?.first?.part.filename == "日本.txt")
    }

    @Test(arguments: [
        ("UTF-8''n%C3%A4me.txt", "näme.txt"),
        ("utf-8'en'%E2%82%AC%20rates", "€ rates"),
        ("ISO-8859-1''caf%E9", "café"),
    ])
    func filenameStarIsDecoded(_ value: String, _ expected: String) {
        let body = BodyBuilder.single(headers: ["Content-Disposition: form-data; name=\"f\"; filename*=\(value)"])
        let part = feeder.parseWhole(body.bytes, contentType: body.contentType).parts?.first?.part
        #expect(part?.filename == expected)
        #expect(part?.filenameStar == expected)
    }

    @Test(arguments: ["UTF-8''%C3", "UTF-8''%G1", "koi8-r''abc", "no-quotes"])
    func invalidFilenameStarIsAnError(_ value: String) {
        let body = BodyBuilder.single(headers: ["Content-Disposition: form-data; name=\"f\"; filename*=\(value)"])
        #expect(feeder.parseWhole(body.bytes, contentType: body.contentType).error?.code == .invalidExtendedFilename)
    }

    @Test func emptyFilenameStillMakesAFilePart() {
        let body = BodyBuilder.single(headers: ["Content-Disposition: form-data; name=\"f\"; filename=\"\""], data: [])
        let part = feeder.parseWhole(body.bytes, contentType: body.contentType).parts?.first?.part
        #expect(part?.isFile == true)
        #expect(part?.filename == "")
    }

    @Test func base64AndQuotedPrintableAreDecoded() {
        var body = BodyBuilder()
        body.part(headers: ["Content-Disposition: form-data; name=\"b\"", "Content-Transfer-Encoding: BASE64"], data: bytes("aGVsbG8g\r\nd29ybGQ="))
        body.part(headers: ["Content-Disposition: form-data; name=\"q\"", "Content-Transfer-Encoding: quoted-printable"], data: bytes("a=3Db=\r\nc=C3=A9"))
        body.close()
        let outcome = feeder.parseWhole(body.bytes, contentType: body.contentType)
        #expect(outcome.parts?.map(\.data) == [bytes("hello world"), bytes("a=bc") + [0xC3, 0xA9]])
        #expect(feeder.parseByteByByte(body.bytes, contentType: body.contentType) == outcome)
    }

    @Test func invalidBase64IsAnError() {
        let body = BodyBuilder.single(headers: ["Content-Disposition: form-data; name=\"b\"", "Content-Transfer-Encoding: base64"], data: bytes("aGV*bG8="))
        #expect(feeder.parseWhole(body.bytes, contentType: body.contentType).error?.code == .invalidEncodedData)
    }

    @Test func unknownTransferEncodingIsAnError() {
        let body = BodyBuilder.single(headers: ["Content-Disposition: form-data; name=\"b\"", "Content-Transfer-Encoding: x-gzip"])
        #expect(feeder.parseWhole(body.bytes, contentType: body.contentType).error?.code == .unsupportedTransferEncoding)
    }

    @Test func fileLimitAppliesToFilesAndFieldLimitToFields() {
        var limits = MultipartLimits()
        limits.fieldBytes = 3
        limits.fileBytes = 5
        let feeder = BodyFeeder(limits: limits)
        var body = BodyBuilder()
        body.file("f", filename: "a", data: bytes("12345"))
        body.field("a", "123")
        body.close()
        #expect(feeder.parseWhole(body.bytes, contentType: body.contentType).parts?.count == 2)

        var bigFile = BodyBuilder()
        bigFile.file("f", filename: "a", data: bytes("123456"))
        bigFile.close()
        let error = feeder.parseWhole(bigFile.bytes, contentType: bigFile.contentType).error
        #expect(error?.code == .limitExceeded(.fileBytes))
        #expect(error?.limitValue == 5)
        let dataStart = bigFile.bytes.count - 6 - 2 - bigFile.boundary.utf8.count - 6
        #expect(error?.offset == dataStart + 5)
        #expect(feeder.parseByteByByte(bigFile.bytes, contentType: bigFile.contentType).error == error)
    }

    @Test func bodyLimitStopsAtItsOffset() {
        var limits = MultipartLimits()
        limits.bodyBytes = 10
        let body = BodyBuilder.single(headers: ["Content-Disposition: form-data; name=\"a\""])
        let outcome = BodyFeeder(limits: limits).parseWhole(body.bytes, contentType: body.contentType)
        #expect(outcome.error?.code == .limitExceeded(.bodyBytes))
        #expect(outcome.error?.offset == 10)
    }

    @Test func errorsAreStickyAndFinishReportsTheSameError() throws {
        var parser = try MultipartParser(contentType: "multipart/form-data; boundary=B")
        let body = bytes("--B\r\n: bad\r\n\r\n")
        var thrown: MultipartError?
        do { _ = try body.withUnsafeBytes { try parser.feed($0) } } catch let error as MultipartError { thrown = error }
        #expect(thrown?.code == .invalidHeader)
        do {
            try parser.finish()
            Issue.record("finish did not throw")
        } catch {
            #expect(error == thrown)
        }
    }

    @Test func eventsComeInPartOrder() throws {
        var parser = try MultipartParser(contentType: "multipart/form-data; boundary=B")
        let body = bytes("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nxy\r\n--B--")
        let events = try body.withUnsafeBytes { try parser.feed($0) }
        guard events.count == 4, case .partBegin(let part) = events[0] else {
            Issue.record("unexpected events \(events)")
            return
        }
        #expect(part.name == "a")
        #expect(part.offset == 5)
        #expect(Array(events[1...]) == [.body(49..<51), .partEnd, .end])
        #expect(parser.isComplete)
        try parser.finish()
    }

    @Test func errorDescriptionNamesCodeAndOffset() {
        let error = MultipartError(.limitExceeded(.parts), offset: 42, limitValue: 3, "too many parts")
        #expect(error.description == "too many parts (limitExceeded(parts), at byte 42 of the body)")
    }

    @Test func tokenSetMatchesRFC9110() {
        for byte in UInt8(0)...UInt8(255) {
            let isTchar =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "!#$%&'*+-.^_`|~".utf8.contains(byte)
            let body = BodyBuilder.single(headers: ["Content-Disposition: form-data; name=a", "X" + String(decoding: [byte], as: UTF8.self) + ": v"])
            let accepted = byte < 0x80 && byte != 0x3A ? feeder.parseWhole(body.bytes, contentType: body.contentType).parts != nil : isTchar
            if byte < 0x80 && byte != 0x3A && byte != 0x0A && byte != 0x0D {
                #expect(accepted == isTchar, "byte \(byte)")
            }
        }
    }
}

@Suite struct BoundaryTests {
    @Test(arguments: [
        ("multipart/form-data; boundary=abc", "abc"),
        ("multipart/form-data; boundary=\"a b:c\"", "a b:c"),
        ("Multipart/Form-Data;BOUNDARY=xyz", "xyz"),
        ("multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundaryAbC", "----WebKitFormBoundaryAbC"),
    ])
    func boundaryIsTakenFromContentType(_ contentType: String, _ expected: String) throws {
        #expect(try MultipartBoundary(contentType: contentType).description == expected)
    }

    @Test(arguments: [
        ("text/plain; boundary=a", MultipartError.Code.invalidContentType),
        ("multipart/form-data", .missingBoundary),
        ("multipart/form-data; boundary=a; boundary=b", .duplicateParameter),
        ("multipart/form-data; boundary=\"a \"", .invalidBoundary),
        ("multipart/form-data; boundary=\"\"", .invalidBoundary),
        ("; !=\"", .invalidContentType),
    ])
    func invalidContentTypeIsRejected(_ contentType: String, _ code: MultipartError.Code) {
        do {
            _ = try MultipartBoundary(contentType: contentType)
            Issue.record("accepted \(contentType)")
        } catch {
            #expect(error.code == code)
            #expect(error.isContentTypeError || code == .duplicateParameter)
        }
    }

    @Test func strictBoundaryTakesOnlyBchars() {
        #expect((try? MultipartBoundary("a[b]")) != nil)
        #expect((try? MultipartBoundary("a[b]", strict: true)) == nil)
    }
}

@Suite struct HeaderLimitTests {
    /// A body whose first header block (its empty line included) is exactly `blockSize` bytes.
    func body(blockSize: Int) -> [UInt8] {
        let start = "Content-Disposition: form-data; name=\"a\"\r\nX-Pad: "
        let padding = String(repeating: "p", count: blockSize - start.utf8.count - 4)
        return Array("--B\r\n\(start)\(padding)\r\n\r\nv\r\n--B--".utf8)
    }

    @Test func headerBlockExactlyAtTheLimitIsAccepted() {
        var limits = MultipartLimits()
        limits.headerBytes = 200
        let feeder = BodyFeeder(limits: limits)
        let bytes = body(blockSize: 200)
        #expect(feeder.parseWhole(bytes, contentType: "multipart/form-data; boundary=B").parts?.count == 1)
        #expect(feeder.parseByteByByte(bytes, contentType: "multipart/form-data; boundary=B").parts?.count == 1)
    }

    @Test func headerBlockOneByteOverTheLimitIsRejectedAtTheLimit() {
        var limits = MultipartLimits()
        limits.headerBytes = 200
        let feeder = BodyFeeder(limits: limits)
        let bytes = body(blockSize: 201)
        let outcome = feeder.parseWhole(bytes, contentType: "multipart/form-data; boundary=B")
        #expect(outcome.error?.code == .limitExceeded(.headerBytes))
        #expect(outcome.error?.offset == 5 + 200)
        #expect(feeder.parseByteByByte(bytes, contentType: "multipart/form-data; boundary=B") == outcome)
        #expect(feeder.parse(bytes, contentType: "multipart/form-data; boundary=B", cuts: [100, 204]) == outcome)
    }
}

/// `Content-Disposition` of a request that carries one file (the IETF resumable-upload protocol's creation).
@Suite struct ContentDispositionTests {
    @Test func theExtendedFilenameWinsThePlainOneIsTheFallbackAndBadHeadersAreRefused() throws {
        #expect(try ContentDisposition.filename("attachment; filename=\"plain.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt") == "résumé.txt")
        #expect(try ContentDisposition.filename("inline; filename=\"a b.pdf\"") == "a b.pdf")
        #expect(try ContentDisposition.filename("inline; filename*=UTF-8''%FF%FE; filename=fallback.txt") == "fallback.txt")
        #expect(try ContentDisposition.filename("inline") == nil)
        #expect(throws: MultipartError.self) { try ContentDisposition.filename("inline; filename=a; filename=b") }
    }
}
