import Foundation
import Ingest
import KnowledgeBase
import Testing

/// A processing input for `Fixtures/documents/NAME`, as libmagic detected it.
func fixtureInput(_ name: String, type: String, charset: String? = nil) -> ProcessingInput {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let record = DocumentRecord(
        id: "d-\(name)", uploadID: "u", fieldName: "doc", filename: name, filenameStar: nil, declaredType: nil,
        detectedType: type, charset: charset, size: 0, sha256: String(repeating: "0", count: 64), status: .processing,
        error: nil, createdAt: Date(), updatedAt: Date())
    return ProcessingInput(record: record, path: root.appendingPathComponent("Fixtures/documents/\(name)").path)
}

let sampleSentence = "Intake sample document. Knowledge bases ingest text like this, one paragraph at a time."

@Suite("Built-in extractors on the fixture documents")
struct ExtractorTests {
    private func extract(_ name: String, _ type: String, charset: String? = nil) async throws -> ExtractedText {
        let input = fixtureInput(name, type: type, charset: charset)
        let processor = try #require(ProcessorRegistry.builtIn.processor(for: type), "no processor for \(type)")
        return try await processor.extract(input)
    }

    @Test func plainTextAndMarkdownKeepTheirLinesAndHeadings() async throws {
        #expect(try await extract("sample.txt", "text/plain", charset: "us-ascii").text == sampleSentence + "\n")
        let markdown = try await extract("sample.md", "text/plain", charset: "us-ascii").text
        #expect(markdown.hasPrefix("# Setup guide\n\nInstall the service"))
        #expect(markdown.contains("## Troubleshooting\n\nIf the port is taken"))
    }

    @Test func textIsDecodedByItsByteOrderMarkOrCharset() async throws {
        #expect(try await extract("sample-utf16.txt", "text/plain", charset: "utf-16le").text.hasPrefix("Grüße aus Köln, in UTF-16"))
        #expect(try await extract("sample-latin1.txt", "text/plain", charset: "iso-8859-1").text.hasPrefix("Un café crème et une brûlée"))
    }

    @Test func htmlKeepsTextAndHeadingsAndDropsScriptsStylesAndComments() async throws {
        let text = try await extract("sample-rich.html", "text/html").text
        #expect(text.hasPrefix("# Release notes\n\nUploads are now 3× faster & use less memory — see the café benchmark."))
        #expect(text.contains("## Fixes\n\nEmpty files are skipped\n\nRetries back off"))
        for hidden in ["secret", "color", "comment", "<", "&amp;"] { #expect(!text.contains(hidden), "\(hidden)") }
        #expect(try await extract("sample.html", "text/html").text == "# Sample\n\n" + sampleSentence)
    }

    @Test func csvRowsBecomeLines() async throws {
        #expect(try await extract("sample.csv", "text/csv").text == "id, title, words\n1, Sample, 12\n2, Another, 7")
    }

    @Test func jsonAndXmlGiveTheirTextValues() async throws {
        #expect(try await extract("sample.json", "application/json").text == "a\nb\n\(sampleSentence)\nSample")
        #expect(try await extract("sample.xml", "text/xml").text == "Streaming parsers\n\nHow to read uploads without holding them in memory.")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/pdftotext"), "needs poppler-utils (.ci/run installs it)"))
    func pdfTextComesFromPdftotextPageByPage() async throws {
        #expect(try await extract("sample.pdf", "application/pdf").text == sampleSentence)
        #expect(
            try await extract("multipage.pdf", "application/pdf").text == """
                Page 1. The first page introduces ingestion.

                Page 2. The second page covers chunking.

                Page 3. The third page explains search ranking.
                """)
    }

    @Test func withoutPdftotextAPDFFailsWithAMessageSayingSo() async throws {
        let extractor = PDFExtractor(toolPath: "/nonexistent/pdftotext")
        await #expect(throws: ProcessingError("PDF text extraction needs pdftotext, which is not installed (Debian: apt-get install poppler-utils)")) {
            _ = try await extractor.extract(fixtureInput("sample.pdf", type: "application/pdf"))
        }
    }

    @Test func officeAndOpenDocumentFilesAreReadFromTheirXML() async throws {
        #expect(
            try await extract("sample.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document").text
                == "Sample\n\n" + sampleSentence)
        let sheet = try await extract("sample.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet").text
        #expect(sheet.contains("id") && sheet.contains(sampleSentence))
        #expect(
            try await extract("sample.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation").text
                == "Quarterly review\n\nQuarterly revenue grew in every region.\n\nNext steps\n\nCustomer retention is the focus of the next quarter.")
        #expect(try await extract("sample.odt", "application/vnd.oasis.opendocument.text").text == sampleSentence)
    }

    @Test func epubChaptersAreReadInSpineOrder() async throws {
        let text = try await extract("sample.epub", "application/epub+zip").text
        #expect(text.hasSuffix("# One\n\n" + sampleSentence))
    }

    @Test(.enabled(if: isInstalled("tesseract"), "needs tesseract-ocr (.ci/run installs it)"))
    func anImageWithoutTextIsProcessedWithNoTextAndANote() async throws {
        let image = try await extract("sample.png", "image/png")
        #expect(image.text.isEmpty)
        #expect(image.note == "OCR found no text in the image")
    }

    @Test func everyPartOfAWordDocumentIsRead() async throws {
        let text = try await extract("sample-parts.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document").text
        for phrase in [
            "The body says the archive is kept in the north wing.", "Footnote: the retention policy is seven years.",
            "Endnote: sources are the archive ledgers.", "Reviewer comment: check the retention schedule.",
            "Confidential handbook header", "Footer with the revision date",
        ] {
            #expect(text.contains(phrase), "\(phrase) in \(text)")
        }
        // The text box once, though Word draws it twice (a shape and its fallback for older readers).
        #expect(text.components(separatedBy: "Text box: the fire exit is by the stairs.").count == 2, "\(text)")
        #expect(text.contains("## Footnotes") && text.contains("## Comments") && text.contains("## Headers and footers"))
    }

    @Test func slidesKeepTheirNotesAndEachIsAPage() async throws {
        let extracted = try await extract("sample-notes.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation")
        #expect(extracted.text.contains("Roadmap\n\nThree releases this year.\n\nNotes: Speaker notes: mention the beta customers."), "\(extracted.text)")
        #expect(extracted.text.contains("Notes: Speaker notes: the travel budget moved to training."))
        #expect(extracted.pages.map(\.number) == [1, 2, 3])
        let passages = Chunker().chunks(of: extracted)
        #expect(passages.first { $0.text.contains("travel budget") }?.page == 2)
        #expect(passages.first { $0.text.contains("Questions") }?.page == 3)
    }

    @Test func everySheetIsReadRowByRowWithItsHeaderRow() async throws {
        let workbook = try await extract("sample-sheets.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet").text
        #expect(
            workbook == """
                ## Sales
                Region: North · Revenue: 12 · Growing: TRUE
                Region: South · Revenue: 7.5 · Growing: FALSE
                Region: Total · Revenue: 19.5

                ## Staff
                Name: Ada · Role: Engineer
                Name: Grace
                """)
        let spreadsheet = try await extract("sample-sheets.ods", "application/vnd.oasis.opendocument.spreadsheet").text
        #expect(spreadsheet == "## Inventory\nItem: Lanterns · Count: 40 · Shelf: Aisle 3 · Bin: Aisle 3")
    }

    @Test func rtfIsReadAsTextNotMarkup() async throws {
        let text = try await extract("sample.rtf", "text/rtf").text
        #expect(text == "Rich text: the café opens at nine.\n\nSecond paragraph with € euros and a {brace}.")
    }

    @Test func aBrokenArchiveFailsWithAClearError() async throws {
        // The PDF is no ZIP: as if libmagic had been fooled.
        let input = fixtureInput("sample.pdf", type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        await #expect(throws: ProcessingError.self) { _ = try await ZipDocumentExtractor().extract(input) }
    }
}
