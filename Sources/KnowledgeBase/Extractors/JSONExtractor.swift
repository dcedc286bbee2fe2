import Ingest
import Foundation

/// JSON: the text values (strings), one per line, in document order of their objects' keys as
/// written; numbers, booleans and nulls carry no prose and are left out.
public struct JSONExtractor: DocumentProcessor {
    public init() {}

    public func handles(detectedType: String) -> Bool {
        detectedType == "application/json" || detectedType.hasSuffix("+json")
    }

    public func extract(_ document: ProcessingInput) async throws -> ExtractedText {
        guard document.record.size <= document.maximumTextBytes else {
            throw ProcessingError("the JSON document is \(document.record.size) bytes; at most \(document.maximumTextBytes) are read")
        }
        let data = try document.contents()
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw ProcessingError("the JSON document cannot be parsed: \(error.localizedDescription)")
        }
        var lines: [String] = []
        Self.collect(value, into: &lines)
        return ExtractedText(text: lines.joined(separator: "\n"))
    }

    private static func collect(_ value: Any, into lines: inout [String]) {
        switch value {
        case let text as String:
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { lines.append(trimmed) }
        case let array as [Any]:
            for element in array { collect(element, into: &lines) }
        case let object as [String: Any]:
            for key in object.keys.sorted() { collect(object[key]!, into: &lines) }
        default:
            break
        }
    }
}
