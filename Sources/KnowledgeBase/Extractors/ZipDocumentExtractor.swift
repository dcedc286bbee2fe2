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
            try word(reader, into: &text)
        case Self.xlsx:
            try workbook(reader, into: &text)
        case Self.pptx:
            try presentation(reader, into: &text)
        case Self.epub:
            for chapter in try EPUBPackage(reader: reader).chapters where !text.isFull {
                text.add(HTMLExtractor.text(ofHTML: String(decoding: try reader.data(chapter), as: UTF8.self)))
            }
        case Self.ods:
            for table in try OpenDocumentTables.read(try reader.data("content.xml"), maximumTextBytes: text.remaining) where !text.isFull {
                text.add(table.rendered())
            }
        default:  // OpenDocument text and presentations
            text.add(
                try XMLText.collect(
                    try reader.data("content.xml"),
                    rules: .init(
                        textElements: ["text:p", "text:h", "text:span", "text:a"], paragraphElements: ["text:p", "text:h"],
                        lineBreakElements: ["text:line-break"], tabElements: ["text:tab"]), maximumTextBytes: text.remaining))
        }
        return ExtractedText(text: text.text, isTruncated: text.isFull, pages: text.pages)
    }

    static let ods = "application/vnd.oasis.opendocument.spreadsheet"

    /// Word's runs of text, paragraphs, line breaks and tabs; a text box once (not again from the
    /// fallback drawn for older readers).
    private static let wordRules = XMLText.Rules(
        textElements: ["w:t"], paragraphElements: ["w:p"], lineBreakElements: ["w:br", "w:cr"], tabElements: ["w:tab"],
        skippedElements: ["mc:Fallback"])

    /// All of a Word document's text: the body (with its text boxes), then, each under a heading,
    /// its footnotes, endnotes, comments, and headers and footers (each distinct text once).
    private func word(_ reader: MemberReader, into text: inout TextBudget) throws {
        text.add(try XMLText.collect(try reader.data("word/document.xml"), rules: Self.wordRules, maximumTextBytes: text.remaining))
        let parts: [(String, [String])] = [
            ("Footnotes", ["word/footnotes.xml"]), ("Endnotes", ["word/endnotes.xml"]), ("Comments", ["word/comments.xml"]),
            ("Headers and footers", reader.members(under: "word/header", suffix: ".xml") + reader.members(under: "word/footer", suffix: ".xml")),
        ]
        for (title, members) in parts where !text.isFull {
            var seen: Set<String> = []
            var found: [String] = []
            for member in members {
                guard let data = try reader.optionalData(member) else { continue }
                let part = try XMLText.collect(data, rules: Self.wordRules, maximumTextBytes: text.remaining)
                if !part.isEmpty && seen.insert(part).inserted { found.append(part) }
            }
            guard !found.isEmpty else { continue }
            text.add("## \(title)")
            found.forEach { text.add($0) }
        }
    }

    /// Every sheet, in the workbook's order, each row with its header row's names.
    private func workbook(_ reader: MemberReader, into text: inout TextBudget) throws {
        let shared = try reader.optionalData("xl/sharedStrings.xml").map(SharedStrings.read) ?? []
        for (name, member) in try Self.sheets(reader) where !text.isFull {
            guard let data = try reader.optionalData(member) else { continue }
            let table = SpreadsheetTable(name: name, rows: try WorksheetCells.read(data, shared: shared, maximumTextBytes: text.remaining))
            text.add(table.rendered())
        }
    }

    /// The workbook's sheets in order, by name and member (`xl/workbook.xml` and its
    /// relationships); every `xl/worksheets/sheetN.xml` by number when those cannot be followed.
    private static func sheets(_ reader: MemberReader) throws -> [(name: String, member: String)] {
        let fallback = reader.members(under: "xl/worksheets/sheet", suffix: ".xml").enumerated().map { ("Sheet \($0.offset + 1)", $0.element) }
        guard let workbook = try reader.optionalData("xl/workbook.xml"), let rels = try reader.optionalData("xl/_rels/workbook.xml.rels") else {
            return fallback
        }
        let targets = Dictionary(
            try XMLAttributes.collect(rels, elements: ["Relationship"]).found.compactMap { found -> (String, String)? in
                guard let id = found.attributes["Id"], let target = found.attributes["Target"] else { return nil }
                return (id, target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target)
            }, uniquingKeysWith: { first, _ in first })
        let sheets = try XMLAttributes.collect(workbook, elements: ["sheet"]).found.compactMap { found -> (String, String)? in
            guard let name = found.attributes["name"], let id = found.attributes["r:id"], let member = targets[id] else { return nil }
            return (name, member)
        }
        return sheets.isEmpty ? fallback : sheets
    }

    /// Each slide's text and then its speaker notes, a slide a page.
    private func presentation(_ reader: MemberReader, into text: inout TextBudget) throws {
        let rules = XMLText.Rules(textElements: ["a:t"], paragraphElements: ["a:p"], lineBreakElements: ["a:br"], skippedElements: ["a:fld"])
        for (index, slide) in reader.members(under: "ppt/slides/slide", suffix: ".xml").enumerated() where !text.isFull {
            var part = try XMLText.collect(try reader.data(slide), rules: rules, maximumTextBytes: text.remaining)
            if let notesMember = try Self.notes(of: slide, reader), let notes = try reader.optionalData(notesMember) {
                let said = try XMLText.collect(notes, rules: rules, maximumTextBytes: text.remaining)
                if !said.isEmpty { part += (part.isEmpty ? "" : "\n\n") + "Notes: " + said }
            }
            text.add(part, page: index + 1)
        }
    }

    /// The notes slide of `slide` (`ppt/slides/slideN.xml`), named by its relationships.
    private static func notes(of slide: String, _ reader: MemberReader) throws -> String? {
        let name = slide.split(separator: "/").last.map(String.init) ?? slide
        guard let rels = try reader.optionalData("ppt/slides/_rels/\(name).rels") else { return nil }
        let target = try XMLAttributes.collect(rels, elements: ["Relationship"]).found.first { $0.attributes["Type"]?.hasSuffix("/notesSlide") == true }?
            .attributes["Target"]
        guard let target else { return nil }
        // Relative to ppt/slides/: "../notesSlides/notesSlide1.xml".
        var parts = ["ppt", "slides"]
        for piece in target.split(separator: "/") {
            if piece == ".." { _ = parts.popLast() } else if piece != "." { parts.append(String(piece)) }
        }
        return parts.joined(separator: "/")
    }
}

/// Text gathered from several members, at most `limit` UTF-8 bytes, parts a paragraph apart;
/// a part that is a page (a slide) has its start recorded.
private struct TextBudget {
    let limit: Int
    private(set) var text = ""
    private(set) var isFull = false
    private(set) var pages: [TextPage] = []
    /// ``text``'s length in Characters (as passages count offsets).
    private var characters = 0

    init(limit: Int) { self.limit = limit }

    var remaining: Int { max(limit - text.utf8.count, 0) }

    mutating func add(_ part: String, page: Int? = nil) {
        guard !part.isEmpty, !isFull else { return }
        if !text.isEmpty {
            text += "\n\n"
            characters += 2
        }
        if let page { pages.append(TextPage(start: characters, number: page)) }
        text += part
        characters += part.count
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
