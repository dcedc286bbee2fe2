import Foundation
import Ingest
/// Plain text and its kin (Markdown, source text, `text/*` that no other processor claims),
/// decoded by byte-order mark, charset, or UTF-8 with an ISO-8859-1 fallback.
public struct PlainTextExtractor: DocumentProcessor {
    public init() {}

    public func handles(detectedType: String) -> Bool {
        detectedType.hasPrefix("text/")
    }

    public func extract(_ document: ProcessingInput) async throws -> ExtractedText {
        let (text, isTruncated) = try document.text()
        return ExtractedText(text: text, isTruncated: isTruncated)
    }
}

/// Images: processed, with no text and a note saying why (there is no OCR).
public struct ImageProcessor: DocumentProcessor {
    /// How images are read; with OCR off, an image is processed with no text and a note.
    public var ocr: OCRSettings
    /// The bounds Tesseract inherits inside an ``IsolatedExtractor`` (for the messages that name them).
    public var limits: ExtractionLimits?
    /// The tesseract to run; nil: the first on PATH.
    public var tesseractPath: String?

    public init(ocr: OCRSettings = OCRSettings(), limits: ExtractionLimits? = nil, tesseractPath: String? = nil) {
        self.ocr = ocr
        self.limits = limits
        self.tesseractPath = tesseractPath
    }

    /// The types Tesseract reads.
    static let readable: Set<String> = ["image/png", "image/jpeg", "image/tiff", "image/webp", "image/bmp", "image/x-ms-bmp", "image/x-portable-pixmap", "image/x-portable-greymap"]

    public func handles(detectedType: String) -> Bool {
        detectedType.hasPrefix("image/")
    }

    public func extract(_ document: ProcessingInput) async throws -> ExtractedText {
        let type = document.record.detectedType
        guard ocr.isEnabled else { return ExtractedText(text: "", note: "\(type) has no text to extract (OCR is off)") }
        guard Self.readable.contains(type) else { return ExtractedText(text: "", note: "\(type) is not read by OCR") }
        switch try await OCRReader(settings: ocr, limits: limits, tesseractPath: tesseractPath).readImage(at: document.path, outputLimit: document.maximumTextBytes) {
        case .timedOut:
            throw ProcessingError("reading the image's text (OCR) took longer than the limit of \(ocr.pageTimeout) and was stopped")
        case .text(let text):
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return ExtractedText(
                text: trimmed, note: trimmed.isEmpty ? "OCR found no text in the image" : "text read by OCR (\(ocr.languages))",
                pages: trimmed.isEmpty ? [] : [TextPage(start: 0, number: 1, source: "ocr")])
        }
    }
}
