import Foundation
import ZIPFoundation

/// Small documents that cost a reader far more than their size, made at test time.
public enum HostileDocuments {
    /// A PDF whose page draws a form that draws the next one `fanout` times, `depth` levels deep:
    /// `fanout^depth` draws from about 3 KB (depth 9, fanout 10: a billion).
    public static func pdfOfNestedForms(depth: Int = 9, fanout: Int = 10, salt: String = "") -> [UInt8] {
        var objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X0 5 0 R >> >> /Contents \(6 + depth) 0 R >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
        for level in 0...depth {
            let content = level < depth ? String(repeating: "/X\(level + 1) Do\n", count: fanout) : "0 0 1 1 re f"
            let resources = level < depth ? "<< /XObject << /X\(level + 1) \(6 + level) 0 R >> >>" : "<< >>"
            objects.append(stream("<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources \(resources)", content))
        }
        objects.append(stream("<<", "/X0 Do\n% \(salt)"))
        return pdf(objects)
    }

    /// A PDF of `pages` pages, each drawing one form that writes a 1 KB line a hundred times:
    /// about 35 KB of text a page from a few hundred bytes.
    public static func pdfOfRepeatedText(pages: Int, salt: String = "") -> [UInt8] {
        let line = "BT /F1 4 Tf 0 0 Td (" + String(repeating: "lorem ipsum dolor sit amet ", count: 40) + ") Tj ET"
        let lines = (0..<100).map { "q 1 0 0 1 0 \(700 - 7 * $0) cm /X1 Do Q\n" }.joined()
        var objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [\((0..<pages).map { "\(7 + $0) 0 R" }.joined(separator: " "))] /Count \(pages) >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            stream("<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /XObject << /X1 5 0 R >> /Font << /F1 3 0 R >> >>", lines),
            stream("<< /Type /XObject /Subtype /Form /BBox [0 -10 5000 10] /Resources << /Font << /F1 3 0 R >> >>", line),
            stream("<<", "/X0 Do\n% \(salt)"),
        ]
        for _ in 0..<pages {
            objects.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X0 4 0 R >> >> /Contents 6 0 R >>")
        }
        return pdf(objects)
    }

    private static func stream(_ dictionaryStart: String, _ content: String) -> String {
        "\(dictionaryStart) /Length \(content.utf8.count) >>\nstream\n\(content)\nendstream"
    }

    private static func pdf(_ objects: [String]) -> [UInt8] {
        var out = Array("%PDF-1.4\n".utf8)
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(out.count)
            out += Array("\(index + 1) 0 obj\n\(object)\nendobj\n".utf8)
        }
        let xref = out.count
        out += Array("xref\n0 \(objects.count + 1)\n0000000000 65535 f \n".utf8)
        for offset in offsets { out += Array((String(repeating: "0", count: 10 - String(offset).count) + "\(offset) 00000 n \n").utf8) }
        out += Array("trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n".utf8)
        return out
    }

    /// A ZIP archive of `members`, in order: the first stored (as EPUB's `mimetype` must be, and
    /// where libmagic looks for Office's `[Content_Types].xml`), the others deflated.
    public static func zip(_ members: [(path: String, contents: [UInt8])]) throws -> [UInt8] {
        let archive = try Archive(accessMode: .create)
        for (index, (path, contents)) in members.enumerated() {
            try archive.addEntry(
                with: path, type: .file, uncompressedSize: Int64(contents.count), compressionMethod: index == 0 ? .none : .deflate
            ) { position, size in
                Data(contents[Int(position)..<Int(position) + size])
            }
        }
        return [UInt8](archive.data ?? Data())
    }

    /// A DOCX whose document declares one entity of `entityBytes` bytes and refers to it `references` times.
    public static func docxOfEntityExpansion(entityBytes: Int = 200_000, references: Int = 200_000) throws -> [UInt8] {
        let document = """
            <?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY big "\(String(repeating: "a", count: entityBytes))">]>\
            <w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>\
            \(String(repeating: "&big;", count: references))</w:t></w:r></w:p></w:body></w:document>
            """
        return try zip([
            ("[Content_Types].xml", Array(#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#.utf8)),
            ("_rels/.rels", Array(#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>"#.utf8)),
            ("word/document.xml", Array(document.utf8)),
        ])
    }

    /// An XLSX of `sheets` sheets, each `sheetBytes` bytes of inline strings.
    public static func xlsxOfManySheets(sheets: Int, sheetBytes: Int) throws -> [UInt8] {
        let cell = "<c t=\"inlineStr\"><is><t>cell text</t></is></c>"
        let sheet = "<worksheet><sheetData><row>" + String(repeating: cell, count: max(sheetBytes / cell.utf8.count, 1)) + "</row></sheetData></worksheet>"
        return try zip([("[Content_Types].xml", Array("<Types/>".utf8))] + (1...sheets).map { ("xl/worksheets/sheet\($0).xml", Array(sheet.utf8)) })
    }

    /// An XLSX whose one sheet inflates to `sheetBytes` bytes of blanks (a few hundred KB deflated).
    public static func xlsxOfOneHugeSheet(sheetBytes: Int) throws -> [UInt8] {
        let archive = try Archive(accessMode: .create)
        try archive.addEntry(with: "[Content_Types].xml", type: .file, uncompressedSize: 8, compressionMethod: .none) { (_: Int64, _: Int) in Data("<Types/>".utf8) }
        // libmagic reads the first few members' names: the small ones come first.
        try archive.addEntry(with: "xl/workbook.xml", type: .file, uncompressedSize: 11, compressionMethod: .deflate) { (_: Int64, _: Int) in Data("<workbook/>".utf8) }
        try archive.addEntry(with: "xl/styles.xml", type: .file, uncompressedSize: 13, compressionMethod: .deflate) { (_: Int64, _: Int) in Data("<styleSheet/>".utf8) }
        let blanks = Data(repeating: 0x20, count: 1 << 20)
        try archive.addEntry(
            with: "xl/worksheets/sheet1.xml", type: .file, uncompressedSize: Int64(sheetBytes), compressionMethod: .deflate
        ) { (_: Int64, size: Int) in blanks.prefix(size) }
        return [UInt8](archive.data ?? Data())
    }

    /// An EPUB whose package lists `items` manifest items and whose spine names one chapter of
    /// `chapterBytes` bytes `spineRepeats` times.
    public static func epub(items: Int = 1, chapterBytes: Int = 1_000, spineRepeats: Int = 1) throws -> [UInt8] {
        let container = """
            <?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>\
            <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>
            """
        let manifest =
            "<item id=\"c1\" href=\"chapter.xhtml\" media-type=\"application/xhtml+xml\"/>"
            + (1..<max(items, 1)).map { "<item id=\"i\($0)\"/>" }.joined()
        let package = """
            <?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><manifest>\(manifest)</manifest>\
            <spine>\(String(repeating: "<itemref idref=\"c1\"/>", count: spineRepeats))</spine></package>
            """
        let paragraph = "<p>A chapter of a hostile book.</p>"
        let chapter = "<html><body>" + String(repeating: paragraph, count: max(chapterBytes / paragraph.utf8.count, 1)) + "</body></html>"
        return try zip([
            ("mimetype", Array("application/epub+zip".utf8)),
            ("META-INF/container.xml", Array(container.utf8)),
            ("OEBPS/content.opf", Array(package.utf8)),
            ("OEBPS/chapter.xhtml", Array(chapter.utf8)),
        ])
    }
}
