import Foundation
import Multipart
import Testing

/// Inputs built to make a parser slow, greedy or wrong. Each must give the typed error (or the
/// right parts), in linear time, holding no more than one chunk plus the limits.
@Suite struct HostileInputTests {
    let boundary = "XyZzy0123456789abcdefBOUNDARY"
    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// Feeds generated chunks to a parser, checking what it retains after each; returns the
    /// parts' data sizes, or the error.
    func stream(
        _ chunks: some Sequence<[UInt8]>, limits: MultipartLimits = MultipartLimits(),
        inspect: (UnsafeRawBufferPointer) -> Void = { _ in }
    ) -> (sizes: [Int], error: MultipartError?) {
        var parser = try! MultipartParser(contentType: contentType, limits: limits)
        let bound = BodyFeeder(limits: limits).retainedBound(boundaryLength: boundary.utf8.count)
        var sizes: [Int] = []
        do {
            for chunk in chunks {
                try chunk.withUnsafeBytes { bytes in
                    var position = 0
                    while let event = try parser.next(in: bytes, at: &position) {
                        switch event {
                        case .partBegin: sizes.append(0)
                        case .body(let range):
                            sizes[sizes.count - 1] += range.count
                            inspect(UnsafeRawBufferPointer(rebasing: bytes[range]))
                        case .bodyLookbehind(let range):
                            sizes[sizes.count - 1] += range.count
                            parser.withLookbehindBytes(range) { inspect($0) }
                        case .partEnd, .end: break
                        }
                    }
                }
                #expect(parser.retainedByteCapacity <= bound)
            }
            try parser.finish()
        } catch let error as MultipartError {
            return (sizes, error)
        } catch {
            Issue.record("unexpected \(error)")
        }
        return (sizes, nil)
    }

    func text(_ string: String) -> [UInt8] { Array(string.utf8) }

    func fileHead(_ filename: String = "f.bin") -> [UInt8] {
        text("--\(boundary)\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\(filename)\"\r\n\r\n")
    }

    var close: [UInt8] { text("\r\n--\(boundary)--\r\n") }

    /// `count` bytes produced by repeating `pattern`, in chunks of `chunkSize`.
    func repeated(_ pattern: [UInt8], count: Int, chunkSize: Int = 64 * 1024) -> some Sequence<[UInt8]> {
        let unit = Array(repeating: pattern, count: max(1, chunkSize / pattern.count)).flatMap { $0 }
        return sequence(state: count) { (remaining: inout Int) -> [UInt8]? in
            guard remaining > 0 else { return nil }
            let size = min(remaining, unit.count)
            remaining -= size
            return Array(unit[0..<size])
        }
    }

    func body(_ pieces: [[UInt8]]) -> [[UInt8]] { pieces }

    @Test func millionCRLFsBeforeTheFirstBoundaryCrossThePreambleLimit() {
        let chunks = [[UInt8]](repeated(text("\r\n"), count: 2_000_000)) + [fileHead(), text("x"), close]
        let result = stream(chunks)
        #expect(result.error?.code == .limitExceeded(.preambleBytes))
        #expect(result.error?.offset == 64 * 1024)
        var limits = MultipartLimits()
        limits.preambleBytes = .max
        let allowed = stream(chunks, limits: limits)
        #expect(allowed.error == nil)
        #expect(allowed.sizes == [1])
    }

    @Test func twentyMegabytesOfDashesAfterTheCloseDelimiterCrossTheEpilogueLimit() {
        let head = fileHead() + text("data") + close
        let chunks = [head] + [[UInt8]](repeated(text("-"), count: 20_000_000))
        let result = stream(chunks)
        #expect(result.error?.code == .limitExceeded(.epilogueBytes))
        // The epilogue starts right after "--boundary--", with the CRLF that follows it.
        #expect(result.error?.offset == head.count - 2 + 64 * 1024)
        #expect(result.sizes == [4])
        var limits = MultipartLimits()
        limits.epilogueBytes = .max
        #expect(stream(chunks, limits: limits).error == nil)
    }

    @Test func eightMebibyteHeaderLineWithoutLineBreakCrossesTheHeaderLimit() {
        let start = text("--\(boundary)\r\nX-Long: ")
        let chunks = [start] + [[UInt8]](repeated(text("a"), count: 8 << 20))
        let result = stream(chunks)
        #expect(result.error?.code == .limitExceeded(.headerBytes))
        #expect(result.error?.offset == boundary.utf8.count + 4 + 16 * 1024)
        #expect(result.error?.limitValue == 16 * 1024)
    }

    @Test func hundredThousandHeaderLinesCrossTheHeaderCountLimit() {
        let start = text("--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n")
        let chunks = [start] + [[UInt8]](repeated(text("a:b\r\n"), count: 500_000))
        let result = stream(chunks)
        #expect(result.error?.code == .limitExceeded(.headerCount))
        // The 65th header line starts after 1 + 63 lines of "a:b\r\n".
        #expect(result.error?.offset == start.count + 63 * 5)
    }

    @Test func firstHeaderLineStartingWithSpaceIsRejected() {
        let body = BodyBuilder.single(headers: [" Content-Disposition: form-data; name=\"a\""])
        let outcome = BodyFeeder().parseWhole(body.bytes, contentType: body.contentType)
        #expect(outcome.error?.code == .invalidHeader)
        #expect(outcome.error?.offset == boundary.utf8.count + 4)
    }

    @Test func hundredThousandEmptyPartsCrossThePartsLimit() {
        let emptyPart = text("--\(boundary)\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n\r\n")
        let chunks = [[UInt8]](repeated(emptyPart, count: emptyPart.count * 100_000)) + [text("--\(boundary)--")]
        let result = stream(chunks)
        #expect(result.error?.code == .limitExceeded(.parts))
        #expect(result.sizes.count == 1000)
        #expect(result.error?.offset == emptyPart.count * 1000 + boundary.utf8.count + 4)
        var limits = MultipartLimits()
        limits.parts = 100_000
        let allowed = stream(chunks, limits: limits)
        #expect(allowed.error == nil)
        #expect(allowed.sizes.count == 100_000)
        #expect(allowed.sizes.allSatisfy { $0 == 0 })
    }

    @Test func gigabyteFieldFedInKibibyteChunksStopsAtTheFieldLimit() {
        let head = text("--\(boundary)\r\nContent-Disposition: form-data; name=\"big\"\r\n\r\n")
        // Lazily generated: the parser must stop long before a gigabyte is made.
        let chunks = [head] + [[UInt8]](repeated(text("0123456789abcdef"), count: 1 << 30, chunkSize: 1024).prefix(4096))
        let result = stream(chunks)
        #expect(result.error?.code == .limitExceeded(.fieldBytes))
        #expect(result.error?.offset == head.count + (1 << 20))
        #expect(result.sizes.first ?? 0 <= 1 << 20)
    }

    @Test func manyFieldsEachUnderTheFieldLimitStopAtTheLimitOnAllFieldsTogether() {
        // 300 fields of 1 MiB each (each at its own limit): a consumer that keeps them would hold 300 MiB.
        let field = (0..<300).map { index in
            text("--\(boundary)\r\nContent-Disposition: form-data; name=\"f\(index)\"\r\n\r\n") + [UInt8](repeating: 0x61, count: 1 << 20) + text("\r\n")
        }
        var limits = MultipartLimits()
        limits.fieldsBytes = (1 << 20) + 1000
        let result = stream(field, limits: limits)
        #expect(result.error?.code == .limitExceeded(.fieldsBytes))
        #expect(result.error?.offset == field[0].count + field[1].count - 2 - ((1 << 20) - 1000))
        #expect(result.sizes.reduce(0, +) <= (1 << 20) + 1000)
        // Files do not count towards it.
        let file =
            text("--\(boundary)\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.bin\"\r\n\r\n")
            + [UInt8](repeating: 0x62, count: 3 << 20) + text("\r\n")
        #expect(stream([field[0], file, text("--\(boundary)--\r\n")], limits: limits).error == nil)
    }

    @Test(arguments: [("CRLF", [UInt8]([13, 10])), ("CR", [13]), ("LF", [10])])
    func sixtyFourMebibytesOfLineBreakBytesAreData(_ label: String, _ pattern: [UInt8]) {
        let size = 64 << 20
        let chunks = [fileHead()] + [[UInt8]](repeated(pattern, count: size)) + [close]
        var mismatches = 0
        var seen = 0
        let result = stream(chunks) { slice in
            for (index, byte) in slice.enumerated() where byte != pattern[(seen + index) % pattern.count] {
                mismatches += 1
            }
            seen += slice.count
        }
        #expect(result.error == nil, "\(label)")
        #expect(result.sizes == [size], "\(label)")
        #expect(mismatches == 0, "\(label)")
    }

    @Test func carriageReturnThenSixtyFourMebibytesWithoutCRIsData() {
        let size = 64 << 20
        let chunks = [fileHead(), text("\r")] + [[UInt8]](repeated(text("abcdefgh"), count: size)) + [close]
        let result = stream(chunks)
        #expect(result.error == nil)
        #expect(result.sizes == [size + 1])
    }

    @Test func nearMissDelimitersInsideDataStayData() {
        let tricky = [
            "\r\n--\(boundary)xyz", "\r\n--\(boundary)-x", "\r\n--\(boundary) \tx", "\r\n--\(boundary)\rx",
            "\r\n--\(String(boundary.dropLast()))", "\r\n-\(boundary)", "\n--\(boundary)x", "\r\r\n--\(boundary)Q",
        ]
        for data in tricky {
            var body = BodyBuilder(boundary: boundary)
            body.file("f", filename: "a.bin", data: text(data))
            body.close()
            let feeder = BodyFeeder()
            let whole = feeder.parseWhole(body.bytes, contentType: body.contentType)
            #expect(whole.parts?.first?.data == text(data), "\(data.debugDescription)")
            #expect(feeder.parseByteByByte(body.bytes, contentType: body.contentType) == whole)
        }
    }

    @Test func plainFilenameWinsOverFilenameStar() {
        let body = BodyBuilder.single(headers: ["Content-Disposition: form-data; name=\"f\"; filename=\"safe.txt\"; filename*=utf-8''evil.php"])
        let part = BodyFeeder().parseWhole(body.bytes, contentType: body.contentType).parts?.first?.part
        #expect(part?.filename == "safe.txt")
        #expect(part?.filenameStar == "evil.php")
    }

    @Test func duplicateNameParameterIsRejected() {
        let body = BodyBuilder.single(headers: ["Content-Disposition: form-data; name=\"a\"; NAME=\"b\""])
        #expect(BodyFeeder().parseWhole(body.bytes, contentType: body.contentType).error?.code == .duplicateParameter)
    }

    @Test(arguments: ["../../etc/passwd", "..\\..\\x.exe", "a\u{0}b.txt", String(repeating: "n", count: 4096)])
    func hostileFilenamesAreReportedRaw(_ filename: String) {
        let escaped = filename.replacingOccurrences(of: "\\", with: "\\\\")
        let body = BodyBuilder.single(headers: ["Content-Disposition: form-data; name=\"f\"; filename=\"\(escaped)\""])
        let part = BodyFeeder().parseWhole(body.bytes, contentType: body.contentType).parts?.first?.part
        #expect(part?.filename == filename)
    }

    @Test func windowsPathKeepsItsBackslashesUnescaped() {
        let body = BodyBuilder.single(headers: ["Content-Disposition: form-data; name=\"f\"; filename=\"C:\\files\\a.txt\""])
        let part = BodyFeeder().parseWhole(body.bytes, contentType: body.contentType).parts?.first?.part
        #expect(part?.filename == "C:\\files\\a.txt")
    }

    @Test func separatorsInsideQuotesAreData() {
        let body = BodyBuilder.single(headers: ["Content-Disposition: FORM-DATA; name=\"a=b\"; filename=\"a;b.txt\""])
        let part = BodyFeeder().parseWhole(body.bytes, contentType: body.contentType).parts?.first?.part
        #expect(part?.name == "a=b")
        #expect(part?.filename == "a;b.txt")
    }

    @Test func contentTypeOfTenThousandBackslashesIsRejectedQuickly() {
        let value = "; !=\"" + String(repeating: "\\", count: 10_000)
        #expect(throws: MultipartError.self) { try MultipartBoundary(contentType: value) }
        let quotedValue = "multipart/form-data; boundary=\"" + String(repeating: "\\", count: 10_000)
        #expect(throws: MultipartError.self) { try MultipartBoundary(contentType: quotedValue) }
    }

    @Test(arguments: [0, 71, 300])
    func boundaryOfInvalidLengthIsRejected(_ length: Int) {
        let value = "multipart/form-data; boundary=\"\(String(repeating: "b", count: length))\""
        do {
            _ = try MultipartBoundary(contentType: value)
            Issue.record("a \(length)-byte boundary was accepted")
        } catch {
            #expect(error.code == .invalidBoundary)
        }
    }

    @Test func seventyByteBoundaryIsAccepted() throws {
        let boundary = String(repeating: "b", count: 70)
        var body = BodyBuilder(boundary: boundary)
        body.field("a", "1")
        body.close()
        #expect(BodyFeeder().parseWhole(body.bytes, contentType: body.contentType).parts?.count == 1)
    }

    @Test(arguments: [
        ("mid-header", "--B\r\nContent-Disposition: form-da"),
        ("mid-body", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nsome da"),
        ("before the close delimiter", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n"),
        ("inside the close delimiter", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--B-"),
    ])
    func endOfInputBeforeTheCloseDelimiterIsTruncation(_ label: String, _ body: String) {
        let bytes = Array(body.utf8)
        let feeder = BodyFeeder()
        let outcome = feeder.parseWhole(bytes, contentType: "multipart/form-data; boundary=B")
        #expect(outcome.error?.code == .truncatedBody, "\(label)")
        #expect(outcome.error?.offset == bytes.count, "\(label)")
        #expect(feeder.parseByteByByte(bytes, contentType: "multipart/form-data; boundary=B") == outcome, "\(label)")
    }
}
