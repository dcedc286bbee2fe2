import Foundation
import Ingest

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Extracts each document in a child process (``ExtractionHelper``, run through
/// ``ChildProcess``) held to ``ExtractionLimits``: a hostile document costs at most its bounds,
/// then fails with an error naming the bound it hit, and the worker moves on. The caller's task
/// only waits: no extraction, read or wait runs on Swift's cooperative pool, and cancelling the
/// task kills the child and everything it started.
public struct IsolatedExtractor: DocumentProcessor {
    public var helper: ExtractionHelper
    public var limits: ExtractionLimits

    public init(helper: ExtractionHelper, limits: ExtractionLimits = ExtractionLimits()) {
        self.helper = helper
        self.limits = limits
    }

    public func handles(detectedType: String) -> Bool {
        ProcessorRegistry.builtIn.processor(for: detectedType) != nil
    }

    public func extract(_ document: ProcessingInput) async throws -> ExtractedText {
        let request = ExtractionRequest(
            path: document.path, detectedType: document.record.detectedType, charset: document.record.charset,
            size: document.record.size, sha256: document.record.sha256, maximumTextBytes: document.maximumTextBytes,
            limits: limits)
        var environment = ProcessInfo.processInfo.environment
        environment["MALLOC_ARENA_MAX"] = "2"  // each malloc arena reserves 64 MiB of the address-space bound
        let child = ChildProcess(
            executable: helper.executable,
            arguments: helper.arguments + [String(decoding: try JSONEncoder().encode(request), as: UTF8.self)],
            environment: environment, processGroup: .new, deadline: limits.wallClock,
            outputLimit: document.maximumTextBytes + Self.headerBytes)
        let outcome: ChildProcess.Outcome
        do {
            outcome = try await child.run()
        } catch let error as ChildProcess.LaunchError {
            throw ProcessingError("text extraction could not start: \(error)")
        }
        return try Self.result(of: outcome, limits: limits)
    }

    /// Room for the header line before the text.
    static let headerBytes = 64 << 10

    /// The text `outcome` carries, or the error that says which bound the child hit.
    static func result(of outcome: ChildProcess.Outcome, limits: ExtractionLimits) throws -> ExtractedText {
        if outcome.exceededDeadline { throw ProcessingError(limits.wallClockExceeded) }
        if outcome.exceededOutputLimit {
            throw ProcessingError("extraction wrote more than the text limit allows and was stopped", permanent: true)
        }
        switch outcome.ending {
        case .exited(ExtractionExit.success):
            guard let newline = outcome.output.firstIndex(of: 0x0A),
                let header = try? JSONDecoder().decode(ExtractionHeader.self, from: Data(outcome.output[..<newline]))
            else { throw ProcessingError("text extraction answered something unreadable") }
            let text = String(decoding: outcome.output[(newline + 1)...], as: UTF8.self)
            return ExtractedText(text: text, note: header.note, isTruncated: header.isTruncated, pages: header.pages)
        case .exited(ExtractionExit.failed):
            throw ProcessingError(lastLine(outcome.errorText) ?? "text extraction failed")
        case .exited(ExtractionExit.failedPermanently):
            throw ProcessingError(lastLine(outcome.errorText) ?? "text extraction failed", permanent: true)
        case .exited(let status):
            throw ProcessingError("text extraction exited with status \(status)\(detail(outcome))")
        case .signalled(let signal):
            if let bound = limits.boundHit(by: outcome, signal: signal) { throw bound }
            throw ProcessingError("text extraction crashed with signal \(signal)\(detail(outcome))")
        }
    }

    private static func lastLine(_ text: String) -> String? {
        text.split(separator: "\n").last.map(String.init)
    }

    private static func detail(_ outcome: ChildProcess.Outcome) -> String {
        lastLine(outcome.errorText).map { ": " + String($0.prefix(300)) } ?? ""
    }
}
