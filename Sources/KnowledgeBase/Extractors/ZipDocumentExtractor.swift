import Ingest
import Foundation
import ZIPFoundation

/// Documents that are ZIP archives of XML: Word, Excel and PowerPoint (Office Open XML),
/// OpenDocument text, spreadsheets and presentations, and EPUB books. Each member read is capped
/// (``maximumMemberBytes``) and so is everything read from one archive together
/// (``maximumInflatedBytes``), so a ZIP bomb fails the job instead of the worker; members are
/// found through an index built once, and an EPUB chapter is read once however often the spine
/// names it.
public struct ZipDocumentExtractor: DocumentProcessor {
    /// The most bytes one member may inflate to.
    public var maximumMemberBytes: Int
    /// The most bytes all members read from one archive may inflate to together.
    public var maximumInflatedBytes: Int

    public init(maximumMemberBytes: Int = 64 << 20, maximumInflatedBytes: Int = 256 << 20) {
        self.maximumMemberBytes = maximumMemberBytes
        self.maximumInflatedBytes = maximumInflatedBytes
    }

    static let docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    static let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    static let pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    static let epub = "application/epub+zip"

    public func handles(detectedType: String) -> Bool {
        [Self.docx, Self.xlsx, Self.pptx, Self.epub].contains(detectedType) || detectedType.hasPrefix("application/vnd.oasis.opendocument.")
    }

    public func extract(_ document: ProcessingInput) async throws -> ExtractedText {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: document.path), accessMode: .read)
        } catch {
            throw ProcessingError("the document is not a readable ZIP archive: \(error)")
        }
        let reader = MemberReader(archive: archive, memberLimit: maximumMemberBytes, totalLimit: maximumInflatedBytes)
        var text = TextBudget(limit: document.maximumTextBytes)
        switch document.record.detectedType {
        case Self.docx:
            text.add(
                try XMLText.collect(
                    try reader.data("word/document.xml"),
                    rules: .init(
                        textElements: ["w:t"], paragraphElements: ["w:p"], lineBreakElements: ["w:br", "w:cr"], tabElements: ["w:tab"]),
                    maximumTextBytes: text.remaining))
        case Self.xlsx:
            if let shared = try reader.optionalData("xl/sharedStrings.xml") {
                text.add(try XMLText.collect(shared, rules: .init(textElements: ["t"], paragraphElements: ["si"]), maximumTextBytes: text.remaining))
            }
            for sheet in reader.members(under: "xl/worksheets/sheet", suffix: ".xml") where !text.isFull {
                text.add(
                    try XMLText.collect(
                        try reader.data(sheet), rules: .init(textElements: ["t"], paragraphElements: ["is"]),
                        maximumTextBytes: text.remaining))
            }
        case Self.pptx:
            for slide in reader.members(under: "ppt/slides/slide", suffix: ".xml") where !text.isFull {
                text.add(
                    try XMLText.collect(
                        try reader.data(slide),
                        rules: .init(
                            textElements: ["a:t"], paragraphElements: ["a:p"], lineBreakElements: ["a:br"]), maximumTextBytes: text.remaining))
            }
        case Self.epub:
            for chapter in try EPUBPackage(reader: reader).chapters where !text.isFull {
                text.add(HTMLExtractor.text(ofHTML: String(decoding: try reader.data(chapter), as: UTF8.self)))
            }
        default:  // OpenDocument
            text.add(
                try XMLText.collect(
                    try reader.data("content.xml"),
                    rules: .init(
                        textElements: ["text:p", "text:h", "text:span", "text:a"], paragraphElements: ["text:p", "text:h"],
                        lineBreakElements: ["text:line-break"], tabElements: ["text:tab"]), maximumTextBytes: text.remaining))
        }
        return ExtractedText(text: text.text, isTruncated: text.isFull)
    }
}

/// Text gathered from several members, at most `limit` UTF-8 bytes, parts a paragraph apart.
private struct TextBudget {
    let limit: Int
    private(set) var text = ""
    private(set) var isFull = false

    init(limit: Int) { self.limit = limit }

    var remaining: Int { max(limit - text.utf8.count, 0) }

    mutating func add(_ part: String) {
        guard !part.isEmpty, !isFull else { return }
        if !text.isEmpty { text += "\n\n" }
        text += part
        if text.utf8.count >= limit {
            text = text.utf8Prefix(limit)
            isFull = true
        }
    }
}

/// An EPUB's chapters in reading order: the package document named by `META-INF/container.xml`,
/// its manifest and spine read with an XML parser (linear in the package's size), each chapter
/// once however often the spine names it.
private struct EPUBPackage {
    let chapters: [String]

    init(reader: MemberReader) throws {
        let container = try XMLAttributes.collect(try reader.data("META-INF/container.xml"), elements: ["rootfile"])
        guard let packagePath = container.first?["full-path"] else {
            throw ProcessingError("the EPUB's META-INF/container.xml names no package document")
        }
        let package = try XMLAttributes.collect(try reader.data(packagePath), elements: ["item", "itemref"])
        let base = packagePath.contains("/") ? String(packagePath[..<packagePath.lastIndex(of: "/")!]) + "/" : ""
        var hrefs: [String: String] = [:]
        var spine: [String] = []
        var seen: Set<String> = []
        for (element, attributes) in package.found {
            if element == "item", let id = attributes["id"], let href = attributes["href"] {
                hrefs[id] = base + (href.removingPercentEncoding ?? href)
            } else if element == "itemref", let idref = attributes["idref"] {
                spine.append(idref)
            }
        }
        chapters = spine.compactMap { hrefs[$0] }.filter { seen.insert($0).inserted }
    }
}

/// Reads members of an archive through an index built once (ZIPFoundation's lookup by path scans
/// the whole central directory), each capped in size and all of them together capped too.
final class MemberReader {
    private let archive: Archive
    private let memberLimit: Int
    private let totalLimit: Int
    private let index: [String: Entry]
    private var inflated = 0

    init(archive: Archive, memberLimit: Int, totalLimit: Int) {
        self.archive = archive
        self.memberLimit = memberLimit
        self.totalLimit = totalLimit
        var index: [String: Entry] = [:]
        for entry in archive where index[entry.path] == nil { index[entry.path] = entry }
        self.index = index
    }

    func optionalData(_ path: String) throws -> Data? {
        guard let entry = index[path] else { return nil }
        guard entry.uncompressedSize <= UInt64(memberLimit) else {
            throw ProcessingError("\(path) inflates to \(entry.uncompressedSize) bytes, over the limit of \(ExtractionLimits.size(memberLimit)) per member", permanent: true)
        }
        var data = Data()
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                guard data.count + chunk.count <= self.memberLimit else {
                    throw ProcessingError("\(path) inflates past the limit of \(ExtractionLimits.size(self.memberLimit)) per member", permanent: true)
                }
                guard self.inflated + chunk.count <= self.totalLimit else {
                    throw ProcessingError("the archive inflates past the limit of \(ExtractionLimits.size(self.totalLimit)) per document", permanent: true)
                }
                self.inflated += chunk.count
                data.append(chunk)
            }
        } catch let error as ProcessingError {
            throw error
        } catch {
            throw ProcessingError("\(path) cannot be read from the archive: \(error)")
        }
        return data
    }

    func data(_ path: String) throws -> Data {
        guard let data = try optionalData(path) else { throw ProcessingError("the archive has no \(path)") }
        return data
    }

    /// Members named `prefix` + a number + `suffix`, in numeric order.
    func members(under prefix: String, suffix: String) -> [String] {
        index.keys.compactMap { path -> (Int, String)? in
            guard path.hasPrefix(prefix), path.hasSuffix(suffix),
                let number = Int(path.dropFirst(prefix.count).dropLast(suffix.count))
            else { return nil }
            return (number, path)
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
