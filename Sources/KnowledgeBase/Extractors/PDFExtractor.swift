import Foundation
import Ingest

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// PDF, through `pdftotext` from poppler-utils, run as a ``ChildProcess``: a clean signal mask,
/// a deadline after which it is killed, its output read as it comes and no more than the text
/// limit kept (past it the process is stopped and the text marked truncated). Pages become
/// paragraphs. Without pdftotext the job fails saying so.
public struct PDFExtractor: DocumentProcessor {
    /// How long one PDF may take.
    public var timeout: Duration
    /// The pdftotext to run; nil: the first on PATH.
    public var toolPath: String?
    /// The bounds pdftotext inherits when it runs inside an ``IsolatedExtractor``'s child (for
    /// the messages that name them); nil: none known.
    public var limits: ExtractionLimits?

    public init(timeout: Duration = .seconds(120), toolPath: String? = nil, limits: ExtractionLimits? = nil) {
        self.timeout = timeout
        self.toolPath = toolPath
        self.limits = limits
    }

    public func handles(detectedType: String) -> Bool {
        detectedType == "application/pdf"
    }

    public func extract(_ document: ProcessingInput) async throws -> ExtractedText {
        guard let tool = toolPath.map({ FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil }) ?? Self.pdftotext else {
            throw ProcessingError("PDF text extraction needs pdftotext, which is not installed (Debian: apt-get install poppler-utils)")
        }
        // Inside an isolated extraction the child leads a process group: pdftotext stays in it, so
        // that killing the group kills pdftotext too.
        let child = ChildProcess(
            executable: tool, arguments: ["-enc", "UTF-8", "-q", document.path, "-"],
            processGroup: getpgrp() == getpid() ? .inherit : .new, deadline: timeout, outputLimit: document.maximumTextBytes)
        let outcome: ChildProcess.Outcome
        do {
            outcome = try await child.run()
        } catch let error as ChildProcess.LaunchError {
            throw ProcessingError("\(error)")
        }
        let isTruncated = outcome.exceededOutputLimit
        if outcome.exceededDeadline { throw ProcessingError("pdftotext took longer than the time limit of \(timeout) and was stopped") }
        switch outcome.ending {
        case .exited(0): break
        case _ where isTruncated: break
        case .signalled(let signal):
            if let bound = limits?.boundHit(by: outcome, signal: signal, process: "pdftotext") { throw bound }
            if signal == SIGXCPU { throw ProcessingError("pdftotext used more than its CPU time limit", permanent: true) }
            throw ProcessingError("pdftotext was stopped by signal \(signal)\(Self.detail(outcome))")
        case .exited(let status):
            throw ProcessingError("pdftotext exited with status \(status)\(Self.detail(outcome))")
        }
        let text = String(decoding: outcome.output, as: UTF8.self)
            .split(separator: "\u{0C}", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
            .joined(separator: "\n\n")
        return ExtractedText(text: text, isTruncated: isTruncated)
    }

    private static func detail(_ outcome: ChildProcess.Outcome) -> String {
        let message = String(outcome.errorText.prefix(300))
        return message.isEmpty ? "" : ": " + message
    }

    /// The pdftotext on PATH, if any.
    static var pdftotext: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/pdftotext" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
