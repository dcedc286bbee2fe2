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
    public init() {}

    public func handles(detectedType: String) -> Bool {
        detectedType.hasPrefix("image/")
    }

    public func extract(_ document: ProcessingInput) async throws -> ExtractedText {
        ExtractedText(text: "", note: "\(document.record.detectedType) has no text to extract (images are not read by OCR)")
    }
}
