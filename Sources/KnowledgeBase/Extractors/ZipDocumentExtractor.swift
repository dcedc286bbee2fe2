import Ingest
import Foundation
import ZIPFoundation

/// Documents that are ZIP archives of XML: Word, Excel and PowerPoint (Office Open XML),
/// OpenDocument text, spreadsheets and presentations, and EPUB books. Each member read is capped
/// (``maximumMemberBytes``), so a ZIP bomb fails the job instead of the worker.
public struct ZipDocumentExtractor: DocumentProcessor {
    /// The most bytes one member may inflate to.
    public var maximumMemberBytes: Int

    public init(maximumMemberBytes: Int = 64 << 20) {
        self.maximumMemberBytes = maximumMemberBytes
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
        let reader = MemberReader(archive: archive, limit: maximumMemberBytes)
        switch document.record.detectedType {
        case Self.docx:
            return ExtractedText(text: try XMLText.collect(try reader.data("word/document.xml"), rules: .init(
                textElements: ["w:t"], paragraphElements: ["w:p"], lineBreakElements: ["w:br", "w:cr"], tabElements: ["w:tab"])))
        case Self.xlsx:
            var parts: [String] = []
            if let shared = try reader.optionalData("xl/sharedStrings.xml") {
                parts.append(try XMLText.collect(shared, rules: .init(textElements: ["t"], paragraphElements: ["si"])))
            }
            for sheet in reader.members(under: "xl/worksheets/sheet", suffix: ".xml") {
                parts.append(try XMLText.collect(try reader.data(sheet), rules: .init(textElements: ["t"], paragraphElements: ["is"])))
            }
            return ExtractedText(text: parts.filter { !$0.isEmpty }.joined(separator: "\n\n"))
        case Self.pptx:
            let slides = reader.members(under: "ppt/slides/slide", suffix: ".xml")
            let texts = try slides.map { try XMLText.collect(try reader.data($0), rules: .init(textElements: ["a:t"], paragraphElements: ["a:p"], lineBreakElements: ["a:br"])) }
            return ExtractedText(text: texts.filter { !$0.isEmpty }.joined(separator: "\n\n"))
        case Self.epub:
            return ExtractedText(text: try epubText(reader))
        default:  // OpenDocument
            return ExtractedText(text: try XMLText.collect(try reader.data("content.xml"), rules: .init(
                textElements: ["text:p", "text:h", "text:span", "text:a"], paragraphElements: ["text:p", "text:h"],
                lineBreakElements: ["text:line-break"], tabElements: ["text:tab"])))
        }
    }

    /// The chapters in reading order (the package's spine), each through the HTML extractor.
    private func epubText(_ reader: MemberReader) throws -> String {
        let container = String(decoding: try reader.data("META-INF/container.xml"), as: UTF8.self)
        guard let packagePath = Self.attribute("full-path", in: container) else {
            throw ProcessingError("the EPUB's META-INF/container.xml names no package document")
        }
        let package = String(decoding: try reader.data(packagePath), as: UTF8.self)
        let base = packagePath.contains("/") ? String(packagePath[..<packagePath.lastIndex(of: "/")!]) + "/" : ""
        var hrefs: [String: String] = [:]
        for item in Self.tags("item", in: package) {
            if let id = Self.attribute("id", in: item), let href = Self.attribute("href", in: item) { hrefs[id] = href }
        }
        let spine = Self.tags("itemref", in: package).compactMap { Self.attribute("idref", in: $0) }.compactMap { hrefs[$0] }
        let chapters = try spine.map { href in
            HTMLExtractor.text(ofHTML: String(decoding: try reader.data(base + (href.removingPercentEncoding ?? href)), as: UTF8.self))
        }
        return chapters.filter { !$0.isEmpty }.joined(separator: "\n\n")
    }

    private static func tags(_ name: String, in xml: String) -> [Substring] {
        var found: [Substring] = []
        var rest = Substring(xml)
        while let open = rest.range(of: "<" + name), let close = rest[open.upperBound...].firstIndex(of: ">") {
            let next = rest[open.upperBound]
            if next == " " || next == "/" || next == ">" || next == "\n" || next == "\t" { found.append(rest[open.lowerBound...close]) }
            rest = rest[rest.index(after: close)...]
        }
        return found
    }

    private static func attribute(_ name: String, in tag: some StringProtocol) -> String? {
        for quote in ["\"", "'"] {
            if let start = tag.range(of: " \(name)=\(quote)") ?? tag.range(of: "\n\(name)=\(quote)"),
               let end = tag[start.upperBound...].range(of: quote) {
                return Entities.decode(String(tag[start.upperBound..<end.lowerBound]))
            }
        }
        return nil
    }
}

/// Reads members of an archive, each capped in size.
private struct MemberReader {
    let archive: Archive
    let limit: Int

    func optionalData(_ path: String) throws -> Data? {
        guard let entry = archive[path] else { return nil }
        guard entry.uncompressedSize <= UInt64(limit) else {
            throw ProcessingError("\(path) inflates to \(entry.uncompressedSize) bytes, over the limit of \(limit)")
        }
        var data = Data()
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                guard data.count + chunk.count <= limit else { throw ProcessingError("\(path) inflates past the limit of \(limit) bytes") }
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
        archive.compactMap { entry -> (Int, String)? in
            let path = entry.path
            guard path.hasPrefix(prefix), path.hasSuffix(suffix),
                  let number = Int(path.dropFirst(prefix.count).dropLast(suffix.count)) else { return nil }
            return (number, path)
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
