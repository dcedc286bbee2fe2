import Ingest
import Foundation

/// PDF, through `pdftotext` from poppler-utils (a separate process, so a hostile PDF cannot take
/// the worker down); pages become paragraphs. Without pdftotext the job fails saying so.
public struct PDFExtractor: DocumentProcessor {
    /// How long one PDF may take.
    public var timeout: Duration
    /// The pdftotext to run; nil: the first on PATH.
    public var toolPath: String?

    public init(timeout: Duration = .seconds(120), toolPath: String? = nil) {
        self.timeout = timeout
        self.toolPath = toolPath
    }

    public func handles(detectedType: String) -> Bool {
        detectedType == "application/pdf"
    }

    public func extract(_ document: ProcessingInput) async throws -> ExtractedText {
        guard let tool = toolPath.map({ FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil }) ?? Self.pdftotext else {
            throw ProcessingError("PDF text extraction needs pdftotext, which is not installed (Debian: apt-get install poppler-utils)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["-enc", "UTF-8", "-q", document.path, "-"]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Task {
            try await Task.sleep(for: timeout)
            process.terminate()
        }
        // Read before waiting (a large output would fill the pipe and stall the process), and no
        // more than the text limit: past it the process is stopped.
        let limit = document.maximumTextBytes
        let (data, isTruncated) = await Task.detached { () -> (Data, Bool) in
            var data = Data()
            while true {
                let piece = output.fileHandleForReading.availableData
                if piece.isEmpty { return (data, false) }
                data.append(piece)
                if data.count > limit {
                    process.terminate()
                    return (data.prefix(limit), true)
                }
            }
        }.value
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        deadline.cancel()
        guard isTruncated || (process.terminationReason == .exit && process.terminationStatus == 0) else {
            let reason = process.terminationReason == .uncaughtSignal ? "was stopped after \(timeout)" : "exited with status \(process.terminationStatus)"
            let detail = String(decoding: message.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw ProcessingError("pdftotext \(reason)\(detail.isEmpty ? "" : ": " + detail)")
        }
        let text = String(decoding: data, as: UTF8.self)
            .split(separator: "\u{0C}", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
            .joined(separator: "\n\n")
        return ExtractedText(text: text, isTruncated: isTruncated)
    }

    /// The pdftotext on PATH, if any.
    static var pdftotext: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/pdftotext" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
