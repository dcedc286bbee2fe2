import ArgumentParser
import Multipart

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `intake inspect`: runs the parser alone over a raw request body and prints what it finds.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Parse a raw multipart/form-data body and print one JSON line per part.",
        discussion: """
            Give the body's boundary with --content-type (the request's Content-Type header value, \
            as sent) or --boundary (the boundary alone). The body is streamed from FILE in 64 KiB \
            reads, so memory stays flat whatever its size; '-' reads standard input.

            Each part is printed when its data is complete, as one JSON object per line:
              name           the Content-Disposition name
              filename       the effective filename: plain filename if present, else the decoded
                             filename*; null for a field
              filename_star  the decoded filename* (RFC 8187), only when the part has one
              content_type   the part's Content-Type header as sent, or null
              headers        every header as [name, value], in order
              size, sha256   of the data, after any Content-Transfer-Encoding is decoded

            On a malformed body, or one that crosses a limit, the parts before the error are \
            printed, the error and its byte offset go to standard error, and the exit status is 1.

            Examples:
              intake inspect --content-type 'multipart/form-data; boundary=XyZ' body.bin
              cat captured-body | intake inspect --boundary=----WebKitFormBoundaryX -
              intake inspect --boundary XyZ --strict --max-file-bytes 10485760 body.bin
            """
    )

    @Option(name: .customLong("content-type"), help: ArgumentHelp("The Content-Type header value, e.g. 'multipart/form-data; boundary=XyZ'.", valueName: "value"))
    var contentType: String?

    @Option(help: ArgumentHelp("The boundary alone, without the leading '--'. Write --boundary=VALUE when it starts with '-'.", valueName: "boundary"))
    var boundary: String?

    @Flag(help: "Reject what RFC 7578/2046 do not allow: LF-only line breaks, folded headers, empty Content-Disposition.")
    var strict = false

    @OptionGroup(title: "Limits")
    var limitOptions: LimitOptions

    @Argument(help: ArgumentHelp("The raw body, or '-' for standard input.", valueName: "FILE|-"))
    var file: String

    func validate() throws {
        switch (contentType, boundary) {
        case (nil, nil): throw ValidationError("Give the boundary with --content-type or --boundary.")
        case (.some, .some): throw ValidationError("Give either --content-type or --boundary, not both.")
        default: break
        }
    }

    func run() throws {
        let options = MultipartParser.Options(strict: strict)
        let limits = limitOptions.limits
        do {
            var parser: MultipartParser
            if let contentType {
                parser = try MultipartParser(contentType: contentType, limits: limits, options: options)
            } else {
                parser = MultipartParser(boundary: try MultipartBoundary(boundary ?? "", strict: strict), limits: limits, options: options)
            }
            let reader: ChunkedFileReader
            do {
                reader = try ChunkedFileReader(path: file)
            } catch {
                throw ValidationError(error.description)
            }
            var digest: PartDigest? = nil
            let status = try reader.forEachChunk { (chunk) throws(MultipartError) in
                var position = 0
                while let event = try parser.next(in: chunk, at: &position) {
                    switch event {
                    case .partBegin(let part):
                        digest = PartDigest(part: part)
                    case .body(let range):
                        try digest?.add(UnsafeRawBufferPointer(rebasing: chunk[range]), offset: parser.offset - position + range.lowerBound)
                    case .bodyLookbehind(let range):
                        let offset = parser.lookbehindOffset
                        try parser.withLookbehindBytes(range) { (bytes) throws(MultipartError) in
                            try digest?.add(bytes, offset: offset)
                        }
                    case .partEnd:
                        if let line = try digest?.finish(offset: parser.offset) { print(line) }
                        digest = nil
                    case .end:
                        break
                    }
                }
            }
            if case .failure(let failure) = status {
                FileOutput.error("intake inspect: \(file): \(failure.description)")
                throw ExitCode(2)
            }
            try parser.finish()
        } catch let error as MultipartError {
            FileOutput.flush()
            FileOutput.error("intake inspect: \(error.description)")
            throw ExitCode(1)
        }
    }
}

/// Standard output and error for the CLI.
enum FileOutput {
    static func error(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { bytes in
            var written = 0
            while written < bytes.count {
                let result = write(STDERR_FILENO, bytes.baseAddress! + written, bytes.count - written)
                if result <= 0 { return }
                written += result
            }
        }
    }

    static func flush() {
        fflush(nil)
    }
}
