import Multipart
import Testing

/// One part as a test sees it: what the parser said and the decoded data.
struct CollectedPart: Equatable, CustomStringConvertible {
    var part: MultipartPart
    var data: [UInt8]

    var description: String { "\(part.name) filename=\(part.filename ?? "nil") type=\(part.contentType ?? "nil") \(data.count) bytes" }
}

/// The whole result of parsing one body: its parts, or the error with what came before it.
enum ParseOutcome: Equatable {
    case parts([CollectedPart])
    case failure(MultipartError, partsBefore: Int)

    var parts: [CollectedPart]? {
        if case .parts(let parts) = self { return parts }
        return nil
    }

    var error: MultipartError? {
        if case .failure(let error, _) = self { return error }
        return nil
    }
}

/// Feeds bodies to a parser in chosen pieces, the way NIO's `ByteToMessageDecoderVerifier`
/// feeds a decoder byte by byte: the result must not depend on where the chunks end.
struct BodyFeeder {
    var limits = MultipartLimits()
    var options = MultipartParser.Options()
    /// Whether to assert, after each chunk, that the parser holds no more than its limits allow.
    var checkRetainedMemory = true

    /// Parses `body` cut at `cuts` (sorted offsets in 1..<body.count).
    func parse(_ body: [UInt8], contentType: String, cuts: [Int]) -> ParseOutcome {
        var parser: MultipartParser
        do {
            parser = try MultipartParser(contentType: contentType, limits: limits, options: options)
        } catch {
            return .failure(error, partsBefore: 0)
        }
        var parts: [CollectedPart] = []
        var current: CollectedPart? = nil
        var decoder = MultipartTransferDecoder(.identity)
        var start = 0
        do {
            for end in cuts + [body.count] where end > start || (end == body.count && start == end) {
                try body[start..<end].withUnsafeBytes { chunk in
                    var position = 0
                    while let event = try parser.next(in: chunk, at: &position) {
                        switch event {
                        case .partBegin(let part):
                            current = CollectedPart(part: part, data: [])
                            decoder = MultipartTransferDecoder(part.transferEncoding)
                        case .body(let range):
                            try decoder.decode(UnsafeRawBufferPointer(rebasing: chunk[range]), into: &current!.data, offset: parser.offset - position + range.lowerBound)
                        case .bodyLookbehind(let range):
                            let held = Array(parser.lookbehind[range])
                            let offset = parser.lookbehindOffset
                            try held.withUnsafeBytes { bytes in
                                try decoder.decode(bytes, into: &current!.data, offset: offset)
                            }
                        case .partEnd:
                            try decoder.finish(into: &current!.data, offset: parser.offset)
                            parts.append(current!)
                            current = nil
                        case .end:
                            break
                        }
                    }
                }
                if checkRetainedMemory {
                    let bound = retainedBound(boundaryLength: parser.boundary.bytes.count)
                    if parser.retainedByteCapacity > bound {
                        Issue.record("parser retains \(parser.retainedByteCapacity) bytes, more than \(bound)")
                    }
                }
                start = end
            }
            try parser.finish()
        } catch let error as MultipartError {
            return .failure(error, partsBefore: parts.count)
        } catch {
            preconditionFailure("only MultipartError is thrown: \(error)")
        }
        return .parts(parts)
    }

    /// The most any parser may hold: a header block at its limit plus a delimiter and its padding
    /// (and the allocator's rounding).
    func retainedBound(boundaryLength: Int) -> Int {
        limits.headerBytes + 4 + boundaryLength + MultipartParser.maximumTransportPadding + 1 + 512
    }

    func parseWhole(_ body: [UInt8], contentType: String) -> ParseOutcome {
        parse(body, contentType: contentType, cuts: [])
    }

    func parseByteByByte(_ body: [UInt8], contentType: String) -> ParseOutcome {
        parse(body, contentType: contentType, cuts: body.isEmpty ? [] : Array(1..<body.count))
    }

    /// Offsets between a CR and the LF after it.
    static func crlfCuts(_ body: [UInt8]) -> [Int] {
        guard body.count > 1 else { return [] }
        return (1..<body.count).filter { body[$0 - 1] == 0x0D && body[$0] == 0x0A }
    }

    /// Random cuts, chunk sizes from 1 to `maxChunk`.
    static func randomCuts(_ count: Int, maxChunk: Int, using generator: inout some RandomNumberGenerator) -> [Int] {
        var cuts: [Int] = []
        var offset = 0
        while true {
            offset += Int.random(in: 1...maxChunk, using: &generator)
            if offset >= count { return cuts }
            cuts.append(offset)
        }
    }
}
