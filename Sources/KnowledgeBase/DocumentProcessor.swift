public import Foundation
public import Ingest

/// Turns a stored document into text, for one family of types. Library users add their own
/// (another format, OCR, …) by conforming and putting theirs first in ``ProcessorRegistry``.
public protocol DocumentProcessor: Sendable {
    /// Whether this processor handles documents libmagic detected as `detectedType`.
    func handles(detectedType: String) -> Bool

    /// The text of `document`, whose bytes are at `document.path`.
    func extract(_ document: ProcessingInput) async throws -> ExtractedText
}

/// A document to process: its catalog record and where its bytes are.
public struct ProcessingInput: Sendable {
    public var record: DocumentRecord
    /// The blob's path (read-only).
    public var path: String
    /// The most bytes of text worth reading: a processor of a text format reads no more than
    /// this (``text()``), and the worker indexes no more than this of any extracted text.
    public var maximumTextBytes: Int

    public init(record: DocumentRecord, path: String, maximumTextBytes: Int = 8 << 20) {
        self.record = record
        self.path = path
        self.maximumTextBytes = maximumTextBytes
    }

    /// The bytes, read whole (processors of formats that need random access use them; none
    /// keeps them past the job).
    public func contents() throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
    }

    /// The file as text, decoded by byte-order mark or charset, reading at most
    /// ``maximumTextBytes`` from its start (a 1 GiB log file costs no more memory than its first
    /// megabytes); `isTruncated` says whether there was more.
    public func text() throws -> (text: String, isTruncated: Bool) {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let prefix = try handle.read(upToCount: maximumTextBytes) ?? Data()
        let more = prefix.count == maximumTextBytes ? try handle.read(upToCount: 1).map { !$0.isEmpty } ?? false : false
        return (TextDecoding.decode(prefix, charset: record.charset), more)
    }
}

/// What a processor got out of a document.
public struct ExtractedText: Sendable, Hashable {
    public var text: String
    /// Why there is no text, when there is none on purpose (an image).
    public var note: String?
    /// Whether the document had more text than was read (``ProcessingInput/maximumTextBytes``).
    public var isTruncated: Bool
    /// Where each page's text begins in ``text``, in order, for formats with pages; empty otherwise.
    public var pages: [TextPage]

    public init(text: String, note: String? = nil, isTruncated: Bool = false, pages: [TextPage] = []) {
        self.text = text
        self.note = note
        self.isTruncated = isTruncated
        self.pages = pages
    }
}

/// Where a page of a document begins in its extracted text, and how its text was obtained.
public struct TextPage: Sendable, Hashable, Codable {
    /// The Character offset in the extracted text.
    public var start: Int
    /// Its number in the document, from 1.
    public var number: Int
    /// `ocr` when its text was read from a picture of it; nil for the document's own text.
    public var source: String?

    public init(start: Int, number: Int, source: String? = nil) {
        self.start = start
        self.number = number
        self.source = source
    }
}

/// Why a document could not be processed; the message is what users see as its `error`.
public struct ProcessingError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// Whether retrying cannot help (the document exceeded a bound): the job goes straight to `dead`.
    public var isPermanent: Bool
    public init(_ message: String, permanent: Bool = false) {
        self.message = message
        self.isPermanent = permanent
    }
    public var description: String { message }
}

/// The processors to try, in order: the first that handles a type wins.
public struct ProcessorRegistry: Sendable {
    public var processors: [any DocumentProcessor]

    public init(processors: [any DocumentProcessor]) {
        self.processors = processors
    }

    /// The built-in processors, run in this process: text and Markdown, HTML, CSV, JSON, XML, PDF
    /// (pdftotext; pages without text through OCR), RTF, Office Open XML, OpenDocument and EPUB,
    /// and images (OCR). A server should
    /// not run them on untrusted documents in its own process: see ``isolated(helper:limits:)``.
    public static let builtIn = builtIn(limits: ExtractionLimits())

    /// The built-in processors with the archive and time bounds of `limits` (the CPU and memory
    /// bounds need a process of their own: ``isolated(helper:limits:)``).
    public static func builtIn(limits: ExtractionLimits) -> ProcessorRegistry {
        ProcessorRegistry(processors: [
            HTMLExtractor(), CSVExtractor(), JSONExtractor(),
            ZipDocumentExtractor(maximumMemberBytes: limits.memberBytes, maximumInflatedBytes: limits.inflatedBytes),
            XMLExtractor(), PDFExtractor(timeout: limits.wallClock, limits: limits, ocr: limits.ocr), RTFExtractor(), PlainTextExtractor(),
            ImageProcessor(ocr: limits.ocr, limits: limits),
        ])
    }

    /// The built-in processors, each document extracted by `helper` in a child process held to
    /// `limits` (``IsolatedExtractor``).
    public static func isolated(helper: ExtractionHelper, limits: ExtractionLimits = ExtractionLimits()) -> ProcessorRegistry {
        ProcessorRegistry(processors: [IsolatedExtractor(helper: helper, limits: limits)])
    }

    public func processor(for detectedType: String) -> (any DocumentProcessor)? {
        processors.first { $0.handles(detectedType: detectedType) }
    }
}
