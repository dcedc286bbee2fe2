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
        let text = try XMLText.collect(try document.contents(), rules: .anyElement, maximumTextBytes: document.maximumTextBytes)
        return ExtractedText(text: text, isTruncated: text.utf8.count >= document.maximumTextBytes)
    }
}

/// Collects the text of an XML document with a parser (no DTDs or external entities are
/// loaded), by rules saying which elements end a paragraph and which hold text. A document that
/// declares entities is refused (none of the formats read here needs them, and their expansion is
/// how a few kilobytes become gigabytes), and parsing stops once the text reaches its limit.
enum XMLText {
    struct Rules {
        /// Elements whose character data is text; nil: all.
        var textElements: Set<String>?
        /// Elements after which a paragraph ends; nil: every element that held text.
        var paragraphElements: Set<String>?
        /// Elements that stand for a line break or a tab inside a paragraph.
        var lineBreakElements: Set<String> = []
        var tabElements: Set<String> = []
        /// Elements whose text, however deep, is not text (Word's `mc:Fallback`, which repeats
        /// a text box's text for older readers; a slide number field).
        var skippedElements: Set<String> = []

        static let anyElement = Rules(textElements: nil, paragraphElements: nil)
    }

    static func collect(_ data: Data, rules: Rules, maximumTextBytes: Int) throws -> String {
        let collector = Collector(rules: rules, maximumTextBytes: maximumTextBytes)
        try BoundedXMLParsing.parse(data, delegate: collector)
        return collector.result
    }

    private final class Collector: BoundedXMLParsing.Delegate {
        let rules: Rules
        let maximumTextBytes: Int
        private var builder = TextBuilder()
        private var open: [String] = []
        private var paragraph = ""
        private var collected = 0
        /// How many skipped elements are open.
        private var skipping = 0

        init(rules: Rules, maximumTextBytes: Int) {
            self.rules = rules
            self.maximumTextBytes = maximumTextBytes
        }

        override func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            open.append(name)
            if rules.skippedElements.contains(name) { skipping += 1 }
            if rules.lineBreakElements.contains(name) { paragraph += "\n" }
            if rules.tabElements.contains(name) { paragraph += "\t" }
        }

        override func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard let current = open.last, skipping == 0 else { return }
            if let textElements = rules.textElements, !textElements.contains(current) { return }
            paragraph += string
            collected += string.utf8.count
            if collected > maximumTextBytes { stop(parser) }  // enough text: the rest is not read
        }

        override func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            open.removeLast()
            if rules.skippedElements.contains(name) { skipping -= 1 }
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
            return builder.result.utf8Prefix(maximumTextBytes)
        }
    }
}

/// An XML parser with bounds: no external entities, no entity declarations (the parse fails
/// naming them), and a delegate that may stop early having read enough.
enum BoundedXMLParsing {
    /// The base of this module's parser delegates. Subclasses override the element and text
    /// callbacks declared here (on Linux the parser calls a delegate through the protocol, so a
    /// callback the base class does not declare would never reach a subclass).
    class Delegate: NSObject, XMLParserDelegate {
        fileprivate(set) var refusal: String?
        fileprivate(set) var stoppedEarly = false

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {}
        func parser(_ parser: XMLParser, foundCharacters string: String) {}
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {}

        /// Stops parsing without failing: what was collected so far is the result.
        func stop(_ parser: XMLParser) {
            stoppedEarly = true
            parser.abortParsing()
        }

        func parser(_ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?) {
            refuse(parser, "the XML declares the entity \"\(name)\"; documents with entity declarations are not read")
        }

        func parser(_ parser: XMLParser, foundExternalEntityDeclarationWithName name: String, publicID: String?, systemID: String?) {
            refuse(parser, "the XML declares the external entity \"\(name)\"; documents with entity declarations are not read")
        }

        private func refuse(_ parser: XMLParser, _ reason: String) {
            guard refusal == nil else { return }
            refusal = reason
            parser.abortParsing()
        }
    }

    static func parse(_ data: Data, delegate: Delegate) throws {
        if let entity = declaredEntity(in: data) {
            throw ProcessingError("the XML declares the entity \"\(entity)\"; documents with entity declarations are not read", permanent: true)
        }
        // Fed as a stream, in pieces: libxml2 refuses a single piece of more than 10 MB.
        let parser = XMLParser(stream: InputStream(data: data))
        parser.shouldResolveExternalEntities = false
        parser.shouldProcessNamespaces = false
        parser.delegate = delegate
        let parsed = parser.parse()
        if let refusal = delegate.refusal { throw ProcessingError(refusal, permanent: true) }
        guard parsed || delegate.stoppedEarly else {
            throw ProcessingError("the XML cannot be parsed: \(parser.parserError.map { "\($0.localizedDescription)" } ?? "unknown error") at line \(parser.lineNumber)")
        }
    }

    /// The name of the first entity the document type declaration of `data` declares, if any:
    /// looked for before parsing, since the parser expands entities as it reads (a DTD can only
    /// stand before the root element, so the search stops at the end of its internal subset).
    static func declaredEntity(in data: Data) -> String? {
        guard let doctype = data.firstRange(of: Array("<!DOCTYPE".utf8)) else { return nil }
        let rest = data[doctype.upperBound...]
        let subsetEnd = rest.firstRange(of: Array("]>".utf8))?.lowerBound ?? rest.endIndex
        guard let entity = rest[..<subsetEnd].firstRange(of: Array("<!ENTITY".utf8)) else { return nil }
        let name = rest[entity.upperBound..<subsetEnd].drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0x25 }
            .prefix { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D && $0 != 0x22 && $0 != 0x27 }
        return String(decoding: name.prefix(64), as: UTF8.self)
    }
}

/// The attributes of chosen elements of an XML document, in document order (an EPUB's container
/// and package documents).
final class XMLAttributes: BoundedXMLParsing.Delegate {
    let elements: Set<String>
    private(set) var found: [(element: String, attributes: [String: String])] = []

    private init(elements: Set<String>) { self.elements = elements }

    static func collect(_ data: Data, elements: Set<String>) throws -> XMLAttributes {
        let collector = XMLAttributes(elements: elements)
        try BoundedXMLParsing.parse(data, delegate: collector)
        return collector
    }

    var first: [String: String]? { found.first?.attributes }

    override func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        let local = name.split(separator: ":").last.map(String.init) ?? name
        if elements.contains(local) { found.append((local, attributes)) }
    }
}
