import Ingest
/// CSV: one line of text per row, cells separated by ", " (quoted cells unquoted, doubled quotes
/// undoubled, line breaks inside a cell kept as spaces).
public struct CSVExtractor: DocumentProcessor {
    public init() {}

    public func handles(detectedType: String) -> Bool {
        detectedType == "text/csv" || detectedType == "application/csv" || detectedType == "text/tab-separated-values"
    }

    public func extract(_ document: ProcessingInput) async throws -> ExtractedText {
        let (text, isTruncated) = try document.text()
        let separator: Character = document.record.detectedType == "text/tab-separated-values" ? "\t" : ","
        return ExtractedText(text: Self.rows(of: text, separator: separator).map { $0.joined(separator: ", ") }.joined(separator: "\n"), isTruncated: isTruncated)
    }

    static func rows(of text: String, separator: Character) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var cell = ""
        var quoted = false
        var iterator = text.makeIterator()
        var pending: Character? = nil
        func next() -> Character? {
            if let character = pending { pending = nil; return character }
            return iterator.next()
        }
        func endRow() {
            row.append(cell.trimmingSpaces)
            cell = ""
            if !(row.count == 1 && row[0].isEmpty) { rows.append(row) }
            row = []
        }
        while let character = next() {
            if quoted {
                if character == "\"" {
                    if let following = next() {
                        if following == "\"" { cell.append("\"") } else { quoted = false; pending = following }
                    } else {
                        quoted = false
                    }
                } else {
                    cell.append(character.isNewline ? " " : character)
                }
            } else if character == "\"" && cell.allSatisfy(\.isWhitespace) {
                quoted = true
                cell = ""
            } else if character == separator {
                row.append(cell.trimmingSpaces)
                cell = ""
            } else if character.isNewline {
                endRow()
            } else {
                cell.append(character)
            }
        }
        if !cell.isEmpty || !row.isEmpty { endRow() }
        return rows
    }
}

extension String {
    var trimmingSpaces: String {
        var slice = Substring(self)
        while slice.first == " " || slice.first == "\t" { slice.removeFirst() }
        while slice.last == " " || slice.last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
