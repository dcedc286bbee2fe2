import Ingest
import Foundation

/// HTML: the text and headings, without scripts, styles or comments, entities decoded. Headings
/// become Markdown-style `#` lines and block elements paragraph breaks, so the chunker sees the
/// document's structure.
public struct HTMLExtractor: DocumentProcessor {
    public init() {}

    public func handles(detectedType: String) -> Bool {
        detectedType == "text/html" || detectedType == "application/xhtml+xml"
    }

    public func extract(_ document: ProcessingInput) async throws -> ExtractedText {
        let (html, isTruncated) = try document.text()
        return ExtractedText(text: Self.text(ofHTML: html), isTruncated: isTruncated)
    }

    private static let blockElements: Set<String> = [
        "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header", "footer", "main", "nav",
        "aside", "blockquote", "pre", "dd", "dt", "dl", "figure", "figcaption", "hr", "title", "body", "td", "th",
    ]
    private static let skippedElements: Set<String> = ["script", "style", "noscript", "template", "svg"]

    /// The readable text of an HTML document (also used for EPUB chapters).
    static func text(ofHTML html: String) -> String {
        let characters = Array(html.unicodeScalars)
        var output = TextBuilder()
        var index = 0
        var skippingUntil: String?
        var title = ""
        var inTitle = false
        while index < characters.count {
            let scalar = characters[index]
            if scalar == "<" {
                if matches(characters, at: index, "<!--") {
                    index = find(characters, "-->", from: index + 4).map { $0 + 3 } ?? characters.count
                    continue
                }
                guard let close = characters[index...].firstIndex(of: ">") else { break }
                let tag = TagName(characters[(index + 1)..<close])
                index = close + 1
                if let skipping = skippingUntil {
                    if tag.isClosing && tag.name == skipping { skippingUntil = nil }
                    continue
                }
                if tag.name == "title" { inTitle = !tag.isClosing; continue }
                if skippedElements.contains(tag.name) && !tag.isClosing && !tag.isSelfClosing {
                    skippingUntil = tag.name
                    continue
                }
                if let level = tag.headingLevel {
                    output.paragraphBreak()
                    if !tag.isClosing { output.append(String(repeating: "#", count: level) + " ") }
                } else if blockElements.contains(tag.name) {
                    tag.name == "br" || tag.name == "td" || tag.name == "th" ? output.lineBreak() : output.paragraphBreak()
                }
                continue
            }
            if skippingUntil != nil { index += 1; continue }
            var text = ""
            while index < characters.count, characters[index] != "<" {
                text.unicodeScalars.append(characters[index])
                index += 1
            }
            let decoded = Entities.decode(text)
            if inTitle { title += decoded } else { output.appendFlowing(decoded) }
        }
        let body = output.result
        let cleanTitle = title.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        if !cleanTitle.isEmpty && !body.hasPrefix("# ") { return "# " + cleanTitle + "\n\n" + body }
        return body
    }

    private static func matches(_ characters: [Unicode.Scalar], at index: Int, _ literal: String) -> Bool {
        let scalars = Array(literal.unicodeScalars)
        guard index + scalars.count <= characters.count else { return false }
        return Array(characters[index..<(index + scalars.count)]) == scalars
    }

    private static func find(_ characters: [Unicode.Scalar], _ literal: String, from start: Int) -> Int? {
        var index = start
        while index < characters.count {
            if matches(characters, at: index, literal) { return index }
            index += 1
        }
        return nil
    }
}

/// The name of a tag, lowercased, and whether it closes or closes itself.
private struct TagName {
    var name: String
    var isClosing: Bool
    var isSelfClosing: Bool

    init(_ inside: ArraySlice<Unicode.Scalar>) {
        var body = String(String.UnicodeScalarView(inside))
        isClosing = body.hasPrefix("/")
        isSelfClosing = body.hasSuffix("/")
        if isClosing { body.removeFirst() }
        name = String(body.prefix { $0.isLetter || $0.isNumber }).lowercased()
    }

    var headingLevel: Int? {
        guard name.count == 2, name.first == "h", let level = Int(name.dropFirst()), (1...6).contains(level) else { return nil }
        return level
    }
}

/// Text with paragraph structure: runs of whitespace in flowing text collapse to one space,
/// breaks never repeat, and the result has no blank lines at either end.
struct TextBuilder {
    private(set) var text = ""

    mutating func append(_ literal: String) { text += literal }

    mutating func appendFlowing(_ flowing: String) {
        for character in flowing {
            if character.isWhitespace {
                if let last = text.last, !last.isWhitespace { text.append(" ") }
            } else {
                text.append(character)
            }
        }
    }

    mutating func lineBreak() {
        trimTrailingSpaces()
        if let last = text.last, last != "\n" { text.append("\n") }
    }

    mutating func paragraphBreak() {
        trimTrailingSpaces()
        guard !text.isEmpty else { return }
        if !text.hasSuffix("\n") { text.append("\n") }
        if !text.hasSuffix("\n\n") { text.append("\n") }
    }

    private mutating func trimTrailingSpaces() {
        while text.last == " " || text.last == "\t" { text.removeLast() }
    }

    var result: String { text.trimmingCharacters(in: .whitespacesAndNewlines) }
}
