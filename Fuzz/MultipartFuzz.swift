// libFuzzer entry for the Multipart module. Compiled together with Sources/Multipart/*.swift
// into one module by Fuzz/run.sh (SwiftPM's own main would win over libFuzzer's).
//
// Two targets in one entry, chosen by the first byte:
// - '#': the rest is a header value for the parameter parser alone, read as a Content-Disposition
//   and as a Content-Type, strictly and leniently: whatever strict parsing accepts, lenient
//   parsing must accept with the same parameters.
// - anything else: a Content-Type value, a LF, then a body. The Content-Type goes through the
//   parameter parser; if it yields a boundary, the body is parsed whole, in pieces whose sizes
//   come from the input, and (when short) byte by byte, and the results must be identical,
//   event for event.
// Any difference, trap or sanitizer report is a finding.

/// What one parse produced: part heads, data bytes, and how it ended.
struct Transcript: Equatable {
    var heads: [MultipartPart] = []
    var data: [UInt8] = []
    var ends = 0
    var error: MultipartError? = nil
}

func parse(_ body: UnsafeRawBufferPointer, boundary: MultipartBoundary, options: MultipartParser.Options, piece: Int) -> Transcript {
    var limits = MultipartLimits()
    limits.headerBytes = 2048
    limits.parts = 64
    limits.preambleBytes = 4096
    var parser = MultipartParser(boundary: boundary, limits: limits, options: options)
    var transcript = Transcript()
    var decoder = MultipartTransferDecoder(.identity)
    do throws(MultipartError) {
        var start = 0
        repeat {
            let end = min(body.count, start + piece)
            let chunk = UnsafeRawBufferPointer(rebasing: body[start..<end])
            var position = 0
            while let event = try parser.next(in: chunk, at: &position) {
                switch event {
                case .partBegin(let part):
                    transcript.heads.append(part)
                    decoder = MultipartTransferDecoder(part.transferEncoding)
                case .body(let range):
                    try decoder.decode(UnsafeRawBufferPointer(rebasing: chunk[range]), into: &transcript.data, offset: parser.offset - position + range.lowerBound)
                case .bodyLookbehind(let range):
                    let offset = parser.lookbehindOffset
                    try parser.withLookbehindBytes(range) { (bytes) throws(MultipartError) in
                        try decoder.decode(bytes, into: &transcript.data, offset: offset)
                    }
                case .partEnd:
                    try decoder.finish(into: &transcript.data, offset: parser.offset)
                    transcript.ends += 1
                case .end:
                    transcript.ends += 1000
                }
            }
            precondition(position == chunk.count, "the parser returned nil before using up the chunk")
            start = end
        } while start < body.count
        try parser.finish()
    } catch {
        transcript.error = error
    }
    return transcript
}

func fuzzParameters(_ value: UnsafeRawBufferPointer) {
    for mediaType in [false, true] {
        let strict = try? ParameterizedValue.parse(value, leadingIsMediaType: mediaType, strict: true)
        let lenient = try? ParameterizedValue.parse(value, leadingIsMediaType: mediaType, strict: false)
        if let strict {
            precondition(lenient?.leading == strict.leading && lenient?.parameters == strict.parameters, "lenient parsing disagrees with strict parsing")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipart(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    if size > 0 && input[0] == UInt8(ascii: "#") {
        fuzzParameters(UnsafeRawBufferPointer(rebasing: input[1...]))
        return 0
    }
    let newline = input.firstIndex(of: 0x0A) ?? input.count
    let contentType = String(decoding: input[0..<newline], as: UTF8.self)
    let body = UnsafeRawBufferPointer(rebasing: input[min(newline + 1, input.count)...])
    let strict = size % 3 == 0
    guard let boundary = try? MultipartBoundary(contentType: contentType, strict: strict) else { return 0 }
    let options = MultipartParser.Options(strict: strict)
    let whole = parse(body, boundary: boundary, options: options, piece: max(body.count, 1))
    let piece = 1 + (size / 3) % 17
    let split = parse(body, boundary: boundary, options: options, piece: piece)
    precondition(whole == split, "whole and \(piece)-byte pieces disagree: \(whole) vs \(split)")
    if body.count <= 512 {
        precondition(parse(body, boundary: boundary, options: options, piece: 1) == whole, "byte-by-byte disagrees")
    }
    return 0
}
