import Ingest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// XML: the text content of its elements, a line per element that holds text.
public struct XMLExtractor: DocumentProcessor {
    public init() {}

    public func handles(detectedType: String) -> Bool {
        detectedType == "application/xml" || detectedType == "text/xml" || detectedType.hasSuffix("+xml")
    }

    public func extract(_ document: ProcessingInput) async throws -> ExtractedText {
        guard document.record.size <= document.maximumTextBytes else {
            throw ProcessingError("the XML document is \(document.record.size) bytes; at most \(document.maximumTextBytes) are read")
        }
        return ExtractedText(text: try XMLText.collect(try document.contents(), rules: .anyElement))
    }
}

/// Collects the text of an XML document with a parser (no DTDs or external entities are
/// loaded), by rules saying which elements end a paragraph and which hold text.
enum XMLText {
    struct Rules {
        /// Elements whose character data is text; nil: all.
        var textElements: Set<String>?
        /// Elements after which a paragraph ends; nil: every element that held text.
        var paragraphElements: Set<String>?
        /// Elements that stand for a line break or a tab inside a paragraph.
        var lineBreakElements: Set<String> = []
        var tabElements: Set<String> = []

        static let anyElement = Rules(textElements: nil, paragraphElements: nil)
    }

    static func collect(_ data: Data, rules: Rules) throws -> String {
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        parser.shouldProcessNamespaces = false
        let collector = Collector(rules: rules)
        parser.delegate = collector
        guard parser.parse() else {
            throw ProcessingError("the XML cannot be parsed: \(parser.parserError.map { "\($0.localizedDescription)" } ?? "unknown error") at line \(parser.lineNumber)")
        }
        return collector.result
    }

    private final class Collector: NSObject, XMLParserDelegate {
        let rules: Rules
        private var builder = TextBuilder()
        private var open: [String] = []
        private var paragraph = ""

        init(rules: Rules) { self.rules = rules }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            open.append(name)
            if rules.lineBreakElements.contains(name) { paragraph += "\n" }
            if rules.tabElements.contains(name) { paragraph += "\t" }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard let current = open.last else { return }
            if let textElements = rules.textElements, !textElements.contains(current) { return }
            paragraph += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            open.removeLast()
            let ends = rules.paragraphElements.map { $0.contains(name) } ?? true
            if ends { flush() }
        }

        private func flush() {
            let text = paragraph.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.split(whereSeparator: { $0 == " " || $0 == "\r" }).joined(separator: " ") }
                .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            paragraph = ""
            guard !text.isEmpty else { return }
            builder.paragraphBreak()
            builder.append(text)
        }

        var result: String {
            flush()
            return builder.result
        }
    }
}
