import Foundation
import Ingest
import KnowledgeBase
import Testing

/// Whether `name` is on PATH.
func isInstalled(_ name: String) -> Bool {
    (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").contains {
        FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
    }
}

/// OCR needs tesseract (and its English data), pdftoppm and, to make scans, img2pdf and pdfunite:
/// `.ci/run` installs them.
let ocrToolsAreInstalled = ["tesseract", "pdftoppm", "pdftotext", "img2pdf", "pdfunite"].allSatisfy(isInstalled)

/// Scans made at test time from the text fixtures: pages rendered to PNG with pdftoppm, and
/// wrapped back into a PDF without a text layer with img2pdf.
struct ScannedFixtures {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-ocr-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/documents/\(name)").path
    }

    private func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ProcessingError("\(tool) \(arguments) exited with \(process.terminationStatus)") }
    }

    /// The pages of fixture `name` as PNG images (150 dpi), in order.
    func pageImages(of name: String) throws -> [String] {
        let prefix = directory + "/" + (name as NSString).deletingPathExtension
        try run("pdftoppm", ["-r", "150", "-png", Self.fixture(name), prefix])
        let stem = (name as NSString).deletingPathExtension + "-"
        let images = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".png") && $0.hasPrefix(stem) }
        return images.sorted().map { directory + "/" + $0 }
    }

    /// Fixture `name` as a scan: a PDF of images of its pages, with no text layer.
    func scannedPDF(of name: String) throws -> String {
        let output = directory + "/scanned-" + name
        try run("img2pdf", try pageImages(of: name) + ["-o", output])
        return output
    }

    /// A PDF whose pages are those of `first` and then those of `second`.
    func joined(_ first: String, _ second: String) throws -> String {
        let output = directory + "/joined-\(UUID().uuidString).pdf"
        try run("pdfunite", [first, second, output])
        return output
    }
}

func input(at path: String, type: String) -> ProcessingInput {
    let record = DocumentRecord(
        id: "d", uploadID: "u", fieldName: "doc", filename: (path as NSString).lastPathComponent, filenameStar: nil, declaredType: nil,
        detectedType: type, charset: nil, size: 0, sha256: String(repeating: "0", count: 64), status: .processing,
        error: nil, createdAt: Date(), updatedAt: Date())
    return ProcessingInput(record: record, path: path)
}

@Suite("OCR of scanned pages and images", .enabled(if: ocrToolsAreInstalled, "needs tesseract-ocr, tesseract-ocr-eng, poppler-utils and img2pdf (.ci/run installs them)"))
struct OCRTests {
    @Test func aScannedPDFIsReadPageByPage() async throws {
        let scans = try ScannedFixtures()
        defer { scans.remove() }
        let scanned = try scans.scannedPDF(of: "multipage.pdf")
        // No text layer: pdftotext alone finds nothing.
        let withoutOCR = try await PDFExtractor(ocr: OCRSettings(isEnabled: false)).extract(input(at: scanned, type: "application/pdf"))
        #expect(withoutOCR.text.isEmpty)
        let extracted = try await PDFExtractor().extract(input(at: scanned, type: "application/pdf"))
        for phrase in ["first page introduces ingestion", "second page covers chunking", "third page explains search ranking"] {
            #expect(extracted.text.contains(phrase), "\(phrase) in \(extracted.text)")
        }
        #expect(extracted.note == "pages 1, 2, 3 read by OCR (eng)")
    }

    @Test func onlyPagesWithoutATextLayerAreRead() async throws {
        let scans = try ScannedFixtures()
        defer { scans.remove() }
        let mixed = try scans.joined(ScannedFixtures.fixture("sample.pdf"), try scans.scannedPDF(of: "multipage.pdf"))
        let extracted = try await PDFExtractor().extract(input(at: mixed, type: "application/pdf"))
        #expect(extracted.text.hasPrefix(sampleSentence + "\n\n"))
        #expect(extracted.text.contains("third page explains search ranking"))
        #expect(extracted.note == "pages 2, 3, 4 read by OCR (eng)")
    }

    @Test func anImageOfAParagraphIsReadUnlessOCRIsOff() async throws {
        let scans = try ScannedFixtures()
        defer { scans.remove() }
        let image = try #require(try scans.pageImages(of: "sample.pdf").first)
        let read = try await ImageProcessor().extract(input(at: image, type: "image/png"))
        #expect(read.text.contains("Knowledge bases ingest text like this"), "\(read.text)")
        #expect(read.note == "text read by OCR (eng)")
        let off = try await ImageProcessor(ocr: OCRSettings(isEnabled: false)).extract(input(at: image, type: "image/png"))
        #expect(off.text.isEmpty)
        #expect(off.note == "image/png has no text to extract (OCR is off)")
        let svg = try await ImageProcessor().extract(input(at: image, type: "image/svg+xml"))
        #expect(svg.note == "image/svg+xml is not read by OCR")
    }

    @Test func aPageOverItsTimeLimitIsSkippedWithANoteAndAnImageFails() async throws {
        let scans = try ScannedFixtures()
        defer { scans.remove() }
        // A millisecond: no tesseract starts, let alone reads a page, in that time.
        let hurried = OCRSettings(pageTimeout: .milliseconds(1))
        let mixed = try scans.joined(ScannedFixtures.fixture("sample.pdf"), try scans.scannedPDF(of: "sample.pdf"))
        let extracted = try await PDFExtractor(ocr: hurried).extract(input(at: mixed, type: "application/pdf"))
        #expect(extracted.text == sampleSentence)
        #expect(extracted.note == "page 2 skipped: OCR took longer than 0.001 seconds")
        let image = try #require(try scans.pageImages(of: "sample.pdf").first)
        await #expect(throws: ProcessingError("reading the image's text (OCR) took longer than the limit of 0.001 seconds and was stopped")) {
            _ = try await ImageProcessor(ocr: hurried).extract(input(at: image, type: "image/png"))
        }
    }

    @Test func withoutTesseractOrALanguageTheErrorNamesTheDebianPackage() async throws {
        let scans = try ScannedFixtures()
        defer { scans.remove() }
        let image = try #require(try scans.pageImages(of: "sample.pdf").first)
        await #expect(throws: ProcessingError("reading text in images (OCR) needs tesseract, which is not installed (Debian: apt-get install tesseract-ocr tesseract-ocr-eng)")) {
            _ = try await ImageProcessor(tesseractPath: "/nonexistent/tesseract").extract(input(at: image, type: "image/png"))
        }
        let scanned = try scans.scannedPDF(of: "sample.pdf")
        let noTesseract = try await PDFExtractor(tesseractPath: "/nonexistent/tesseract").extract(input(at: scanned, type: "application/pdf"))
        #expect(noTesseract.text.isEmpty)
        #expect(noTesseract.note == "1 page(s) without a text layer were not read: OCR needs tesseract (Debian: apt-get install tesseract-ocr tesseract-ocr-eng)")
        await #expect(throws: ProcessingError("the OCR language 'zzz' is not installed (Debian: apt-get install tesseract-ocr-zzz)")) {
            _ = try await ImageProcessor(ocr: OCRSettings(languages: "zzz")).extract(input(at: image, type: "image/png"))
        }
        #expect(!OCRSettings.isValid(languages: "eng; rm -rf /"))
        #expect(!OCRSettings.isValid(languages: "eng++deu"))
        #expect(OCRSettings.isValid(languages: "eng+deu+chi_sim"))
    }
}
