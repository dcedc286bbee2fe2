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
///
/// A page whose text layer is empty or nearly so (a scan) is rendered with `pdftoppm` and read by
/// Tesseract (``OCRSettings``), each page held to its own time limit: a page past it is skipped
/// with a note, and pages left when the document's time is nearly spent are skipped with a note
/// too, so a long scan gives what could be read instead of failing. Without Tesseract such pages
/// stay empty and the note names the package to install.
public struct PDFExtractor: DocumentProcessor {
    /// How long one PDF may take.
    public var timeout: Duration
    /// The pdftotext to run; nil: the first on PATH.
    public var toolPath: String?
    /// The bounds pdftotext inherits when it runs inside an ``IsolatedExtractor``'s child (for
    /// the messages that name them); nil: none known.
    public var limits: ExtractionLimits?
    /// How pages without text are read.
    public var ocr: OCRSettings
    /// The tesseract to run; nil: the first on PATH.
    public var tesseractPath: String?

    public init(
        timeout: Duration = .seconds(120), toolPath: String? = nil, limits: ExtractionLimits? = nil, ocr: OCRSettings = OCRSettings(),
        tesseractPath: String? = nil
    ) {
        self.timeout = timeout
        self.toolPath = toolPath
        self.limits = limits
        self.ocr = ocr
        self.tesseractPath = tesseractPath
    }

    /// A page with fewer letters and digits than this in its text layer is taken for a scan.
    static let scannedPageCharacters = 16

    public func handles(detectedType: String) -> Bool {
        detectedType == "application/pdf"
    }

    public func extract(_ document: ProcessingInput) async throws -> ExtractedText {
        let start = ContinuousClock.now
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
        // pdftotext ends every page with a form feed: page N is the N-th piece.
        var pages = String(decoding: outcome.output, as: UTF8.self).split(separator: "\u{0C}", omittingEmptySubsequences: false).map(String.init)
        if pages.last?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty == true { pages.removeLast() }
        var notes: [String] = []
        var readByOCR: Set<Int> = []
        if ocr.isEnabled && !isTruncated {
            (notes, readByOCR) = try await readScannedPages(&pages, of: document, startedAt: start)
        }
        // Pages become paragraphs; each one's start is kept (in Characters, as passages count them).
        var text = ""
        var starts: [TextPage] = []
        var length = 0
        for (index, page) in pages.enumerated() {
            let trimmed = page.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            if !text.isEmpty {
                text += "\n\n"
                length += 2
            }
            starts.append(TextPage(start: length, number: index + 1, source: readByOCR.contains(index + 1) ? "ocr" : nil))
            text += trimmed
            length += trimmed.count
        }
        return ExtractedText(text: text, note: notes.isEmpty ? nil : notes.joined(separator: "; "), isTruncated: isTruncated, pages: starts)
    }

    /// Reads with OCR the pages whose text layer is (nearly) empty, in place; returns notes on
    /// what was read and what was skipped, and the numbers of the pages read.
    private func readScannedPages(
        _ pages: inout [String], of document: ProcessingInput, startedAt start: ContinuousClock.Instant
    ) async throws -> (notes: [String], read: Set<Int>) {
        let scanned = pages.indices.filter { index in
            pages[index].unicodeScalars.lazy.filter { CharacterSet.alphanumerics.contains($0) }.count < Self.scannedPageCharacters
        }
        guard !scanned.isEmpty else { return ([], []) }
        let reader = OCRReader(settings: ocr, limits: limits, tesseractPath: tesseractPath)
        guard reader.tesseract != nil else {
            return (["\(scanned.count) page(s) without a text layer were not read: OCR needs tesseract (Debian: apt-get install tesseract-ocr tesseract-ocr-eng)"], [])
        }
        var read: [Int] = []
        var timedOut: [Int] = []
        var notReached: [Int] = []
        var textBytes = pages.reduce(0) { $0 + $1.utf8.count }
        for index in scanned {
            // A page is begun only if it can end within the document's time, with room to spare.
            guard ContinuousClock.now - start + ocr.pageTimeout + .seconds(5) <= timeout, textBytes < document.maximumTextBytes else {
                notReached.append(index + 1)
                continue
            }
            switch try await reader.readPage(index + 1, ofPDFAt: document.path, outputLimit: document.maximumTextBytes - textBytes) {
            case .timedOut:
                timedOut.append(index + 1)
            case .text(let text):
                pages[index] = text
                textBytes += text.utf8.count
                read.append(index + 1)
            }
        }
        var notes: [String] = []
        if !read.isEmpty { notes.append("\(Self.pageList(read)) read by OCR (\(ocr.languages))") }
        if !timedOut.isEmpty { notes.append("\(Self.pageList(timedOut)) skipped: OCR took longer than \(ocr.pageTimeout)") }
        if !notReached.isEmpty { notes.append("\(Self.pageList(notReached)) not read by OCR: the document's time or text limit was reached") }
        return (notes, Set(read))
    }

    /// `page 3`, `pages 1, 2, 5`, or `pages 1–40` for a run of 5 or more.
    static func pageList(_ pages: [Int]) -> String {
        guard pages.count > 1 else { return "page \(pages.first ?? 0)" }
        if pages.count >= 5, pages.last! - pages.first! == pages.count - 1 { return "pages \(pages.first!)–\(pages.last!)" }
        return "pages " + pages.map(String.init).joined(separator: ", ")
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
