import Foundation
import Ingest
import IngestSQLite
import IntakeTesting
import KnowledgeBase
import Testing

/// Untrusted documents extracted in a bounded child process (`intake extract`), through the worker.
@Suite("Isolated extraction of hostile documents")
struct IsolatedExtractionTests {
    func isolatedWorker(_ pipeline: Pipeline, limits: ExtractionLimits = ExtractionLimits(), maximumTextBytes: Int = 8 << 20) throws -> ProcessingWorker {
        var worker = pipeline.worker("isolated", registry: .isolated(helper: try BuiltIntake.extractionHelper, limits: limits))
        worker.maximumTextBytes = maximumTextBytes
        return worker
    }

    @Test func anOrdinaryDocumentIsExtractedTheSameInTheChild() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let id = try await pipeline.upload("sample.docx")
        #expect(try await isolatedWorker(pipeline).processNext())
        let document = try #require(try await pipeline.store.document(id: id))
        #expect(document.status == .processed, "\(document.error ?? "")")
        #expect(try await pipeline.store.chunks(documentID: id).map(\.text) == ["Sample\n\n" + sampleSentence])
    }

    @Test(.enabled(if: ocrToolsAreInstalled), .timeLimit(.minutes(2)))
    func aScannedPDFIsReadByOCRInTheBoundedChild() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let scans = try ScannedFixtures()
        defer { scans.remove() }
        // The child writes no file (RLIMIT_FSIZE 0): the page goes from pdftoppm to tesseract through a pipe.
        let scanned = try Data(contentsOf: URL(fileURLWithPath: try scans.scannedPDF(of: "multipage.pdf")))
        let id = try await pipeline.upload("scanned.pdf", data: [UInt8](scanned))
        #expect(try await isolatedWorker(pipeline).processNext())
        let document = try #require(try await pipeline.store.document(id: id))
        #expect(document.status == .processed, "\(document.error ?? "")")
        #expect(document.note == "pages 1, 2, 3 read by OCR (eng)")
        let chunks = try await pipeline.store.chunks(documentID: id)
        // One passage a page, each saying its page and that OCR read it.
        #expect(chunks.map(\.page) == [1, 2, 3])
        #expect(chunks.map(\.source) == ["ocr", "ocr", "ocr"])
        #expect(chunks[1].text.contains("second page covers chunking"), "\(chunks.map(\.text))")
    }

    @Test(.enabled(if: pdftotextIsInstalled), .timeLimit(.minutes(2)))
    func aPDFWithMoreTextThanTheLimitIsIndexedUpToTheLimitInsteadOfHanging() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        // 52 KB of PDF, 10 MB of text.
        let id = try await pipeline.upload("big-text.pdf", data: HostileDocuments.pdfOfRepeatedText(pages: 300))
        #expect(try await isolatedWorker(pipeline).processNext())
        let document = try #require(try await pipeline.store.document(id: id))
        #expect(document.status == .processed, "\(document.error ?? "")")
        #expect(document.note == "only the first 8 MiB of text were indexed")
        #expect(try #require(try await pipeline.store.chunks(documentID: id).last).end <= 8 << 20)
    }

    @Test(.enabled(if: pdftotextIsInstalled), .timeLimit(.minutes(2)))
    func aPDFThatDrawsABillionNestedFormsIsDeadAtOnceNamingTheCPULimit() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let id = try await pipeline.upload("nested-forms.pdf", data: HostileDocuments.pdfOfNestedForms())
        var limits = ExtractionLimits()
        limits.cpuSeconds = 2
        #expect(try await isolatedWorker(pipeline, limits: limits).processNext())
        let document = try #require(try await pipeline.store.document(id: id))
        #expect(document.status == .dead)
        #expect(document.error == "extraction used more than the CPU time limit of 2 s")
        #expect(try await pipeline.store.job(documentID: id)?.attempts == 1)
    }

    @Test(.timeLimit(.minutes(1))) func aDocumentPastTheWallClockLimitFailsNamingItAndIsRetried() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let id = try await pipeline.upload("sample.txt")
        var limits = ExtractionLimits()
        limits.wallClock = .milliseconds(200)
        // A helper that never answers stands for a document that takes too long.
        let worker = pipeline.worker("stuck", registry: .isolated(helper: ExtractionHelper(executable: "/bin/sh", arguments: ["-c", "sleep 1000"]), limits: limits))
        #expect(try await worker.processNext())
        let document = try #require(try await pipeline.store.document(id: id))
        #expect(document.status == .failed)
        #expect(document.error == "extraction took longer than the time limit of 0.2 seconds and was stopped")
    }

    @Test(.timeLimit(.minutes(1))) func aDOCXThatDeclaresAnEntityIsDeadWithoutExpandingIt() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let id = try await pipeline.upload("entities.docx", data: try HostileDocuments.docxOfEntityExpansion())
        #expect(try await isolatedWorker(pipeline).processNext())
        let document = try #require(try await pipeline.store.document(id: id))
        #expect(document.status == .dead, "\(document.detectedType)")
        #expect(document.error == "the XML declares the entity \"big\"; documents with entity declarations are not read")
    }

    @Test(.timeLimit(.minutes(1))) func anXLSXWhoseSheetsInflatePastTheArchiveLimitIsDeadNamingIt() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let id = try await pipeline.upload("sheets.xlsx", data: try HostileDocuments.xlsxOfManySheets(sheets: 150, sheetBytes: 100_000))
        var limits = ExtractionLimits()
        limits.inflatedBytes = 4 << 20
        #expect(try await isolatedWorker(pipeline, limits: limits).processNext())
        let document = try #require(try await pipeline.store.document(id: id))
        #expect(document.status == .dead, "\(document.detectedType)")
        #expect(document.error == "the archive inflates past the limit of 4 MiB per document")
    }

    @Test(.timeLimit(.minutes(1))) func aDocumentThatNeedsMoreMemoryThanTheLimitIsDeadNamingIt() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let id = try await pipeline.upload("huge-sheet.xlsx", data: try HostileDocuments.xlsxOfOneHugeSheet(sheetBytes: 400 << 20))
        var limits = ExtractionLimits()
        limits.memoryBytes = 256 << 20
        limits.memberBytes = 1 << 30
        limits.inflatedBytes = 1 << 30
        #expect(try await isolatedWorker(pipeline, limits: limits).processNext())
        let document = try #require(try await pipeline.store.document(id: id))
        #expect(document.status == .dead, "\(document.detectedType)")
        #expect(document.error?.hasPrefix("extraction exceeded the memory limit of 256 MiB") == true, "\(document.error ?? "")")
    }

    @Test(.timeLimit(.minutes(1))) func anEPUBWhoseSpineNamesOneChapterFortyTimesReadsItOnce() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let id = try await pipeline.upload("repeats.epub", data: try HostileDocuments.epub(chapterBytes: 1 << 20, spineRepeats: 40))
        var limits = ExtractionLimits()
        limits.inflatedBytes = 2 << 20  // the chapter fits once, not forty times
        #expect(try await isolatedWorker(pipeline, limits: limits).processNext())
        let document = try #require(try await pipeline.store.document(id: id))
        #expect(document.status == .processed, "\(document.detectedType) \(document.error ?? "")")
        // The text is the chapter's, once: about 29 bytes of text for each 35 of HTML.
        let end = try #require(try await pipeline.store.chunks(documentID: id).last).end
        #expect(end > 800_000 && end < 1 << 20)
    }

    @Test(.timeLimit(.minutes(1))) func anEPUBWithFourHundredThousandManifestItemsIsReadInLinearTime() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let id = try await pipeline.upload("items.epub", data: try HostileDocuments.epub(items: 400_000))
        #expect(try await isolatedWorker(pipeline).processNext())
        let document = try #require(try await pipeline.store.document(id: id))
        #expect(document.status == .processed, "\(document.detectedType) \(document.error ?? "")")
        #expect(try await pipeline.store.chunks(documentID: id).map(\.text).joined().contains("A chapter of a hostile book."))
    }
}
