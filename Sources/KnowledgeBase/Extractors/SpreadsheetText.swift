import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A sheet as rows of cells, rendered so that a passage found alone still says what its values
/// are: the first row with values is the header, and every later row reads
/// `Region: North · Revenue: 12` (a column without a header is named by its letter).
struct SpreadsheetTable {
    var name: String
    /// Each row's cells by column (from 0), values only.
    var rows: [[Int: String]] = []

    /// `## NAME`, then a line per row after the header; empty when the sheet has no values.
    func rendered() -> String {
        guard let headerIndex = rows.firstIndex(where: { !$0.isEmpty }) else { return "" }
        let header = rows[headerIndex]
        var lines = ["## \(name)"]
        for row in rows[(headerIndex + 1)...] where !row.isEmpty {
            lines.append(
                row.keys.sorted().map { column in
                    let title = header[column].map { $0.isEmpty ? nil : $0 } ?? nil
                    return "\(title ?? Self.columnName(column)): \(row[column]!)"
                }.joined(separator: " · "))
        }
        // A sheet of one row: its values, under its name.
        if lines.count == 1 { lines.append(header.keys.sorted().map { header[$0]! }.joined(separator: " · ")) }
        return lines.joined(separator: "\n")
    }

    /// `A`, `B`, …, `Z`, `AA`, … for columns 0, 1, ….
    static func columnName(_ column: Int) -> String {
        var number = column + 1
        var name = ""
        while number > 0 {
            let remainder = (number - 1) % 26
            name = String(UnicodeScalar(UInt8(65 + remainder))) + name
            number = (number - 1) / 26
        }
        return name
    }

    /// The column of a cell reference such as `B7` (letters, then digits); nil if it has none.
    static func column(of reference: String) -> Int? {
        var column = 0
        var letters = 0
        for byte in reference.utf8 {
            guard byte >= 65 && byte <= 90 else { break }
            column = column * 26 + Int(byte - 64)
            letters += 1
            if letters > 3 { return nil }  // XFD is the last column
        }
        return letters == 0 ? nil : column - 1
    }
}

/// The shared strings of a workbook (`xl/sharedStrings.xml`): each `si`'s text runs, without
/// its phonetic guides (`rPh`).
final class SharedStrings: BoundedXMLParsing.Delegate {
    private(set) var strings: [String] = []
    private var current: String?
    private var inText = false
    private var inPhonetic = 0

    static func read(_ data: Data) throws -> [String] {
        let reader = SharedStrings()
        try BoundedXMLParsing.parse(data, delegate: reader)
        return reader.strings
    }

    override func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        switch name {
        case "si": current = ""
        case "t": inText = true
        case "rPh": inPhonetic += 1
        default: break
        }
    }

    override func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText && inPhonetic == 0 { current? += string }
    }

    override func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "si":
            strings.append(current ?? "")
            current = nil
        case "t": inText = false
        case "rPh": inPhonetic -= 1
        default: break
        }
    }
}

/// One worksheet of a workbook (`xl/worksheets/sheetN.xml`): its cells' values by row, shared
/// strings looked up, inline strings, numbers, booleans (`TRUE`/`FALSE`), formulas by their
/// cached value; at most `maximumTextBytes` of values, then it stops reading.
final class WorksheetCells: BoundedXMLParsing.Delegate {
    private let shared: [String]
    private let maximumTextBytes: Int
    private(set) var rows: [[Int: String]] = []
    private var row: [Int: String]?
    private var cell: (column: Int, type: String?)?
    private var nextColumn = 0
    private var value = ""
    private var inValue = false
    private var inInlineText = false
    private var collected = 0

    private init(shared: [String], maximumTextBytes: Int) {
        self.shared = shared
        self.maximumTextBytes = maximumTextBytes
    }

    static func read(_ data: Data, shared: [String], maximumTextBytes: Int) throws -> [[Int: String]] {
        let reader = WorksheetCells(shared: shared, maximumTextBytes: maximumTextBytes)
        try BoundedXMLParsing.parse(data, delegate: reader)
        if let row = reader.row, !row.isEmpty { reader.rows.append(row) }
        return reader.rows
    }

    override func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        switch name {
        case "row":
            row = [:]
            nextColumn = 0
        case "c":
            let column = attributes["r"].flatMap(SpreadsheetTable.column(of:)) ?? nextColumn
            cell = (column, attributes["t"])
            nextColumn = column + 1
            value = ""
        case "v": inValue = true
        case "t" where cell != nil: inInlineText = true
        default: break
        }
    }

    override func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard inValue || inInlineText else { return }
        value += string
        collected += string.utf8.count
        if collected > maximumTextBytes { stop(parser) }
    }

    override func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "v": inValue = false
        case "t": inInlineText = false
        case "c":
            guard let current = cell else { return }
            cell = nil
            let text: String
            switch current.type {
            case "s": text = Int(value.trimmingCharacters(in: .whitespaces)).flatMap { shared.indices.contains($0) ? shared[$0] : nil } ?? ""
            case "b": text = value == "1" ? "TRUE" : value == "0" ? "FALSE" : value
            default: text = value
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { row?[current.column] = trimmed }
        case "row":
            // Rows without a value are not kept (a sheet can declare a million of them).
            if let row, !row.isEmpty { rows.append(row) }
            row = nil
        default: break
        }
    }
}

/// The tables of an OpenDocument spreadsheet (`content.xml`): each `table:table` by name, its
/// cells' text (`text:p` lines joined by a space). A row or cell repeated over rows or columns
/// (`number-rows-repeated`, `number-columns-repeated`, which can say a million) is repeated at
/// most ``maximumRepeats`` times when it holds a value, and skipped over when empty.
final class OpenDocumentTables: BoundedXMLParsing.Delegate {
    static let maximumRepeats = 64
    private let maximumTextBytes: Int
    private(set) var tables: [SpreadsheetTable] = []
    private var table: SpreadsheetTable?
    private var row: [Int: String]?
    private var rowRepeats = 1
    private var column = 0
    private var cellRepeats = 1
    private var cellText: [String]?
    private var paragraph = ""
    private var inParagraph = 0
    private var collected = 0

    private init(maximumTextBytes: Int) {
        self.maximumTextBytes = maximumTextBytes
    }

    static func read(_ data: Data, maximumTextBytes: Int) throws -> [SpreadsheetTable] {
        let reader = OpenDocumentTables(maximumTextBytes: maximumTextBytes)
        try BoundedXMLParsing.parse(data, delegate: reader)
        if let table = reader.table { reader.tables.append(table) }
        return reader.tables
    }

    private static func repeats(_ text: String?) -> Int {
        max(1, min(Int(text ?? "1") ?? 1, 1 << 20))
    }

    override func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        switch name {
        case "table:table":
            table = SpreadsheetTable(name: attributes["table:name"] ?? "Sheet \(tables.count + 1)")
        case "table:table-row":
            row = [:]
            column = 0
            rowRepeats = Self.repeats(attributes["table:number-rows-repeated"])
        case "table:table-cell", "table:covered-table-cell":
            cellRepeats = Self.repeats(attributes["table:number-columns-repeated"])
            cellText = []
        case "text:p":
            inParagraph += 1
            paragraph = ""
        default: break
        }
    }

    override func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard inParagraph > 0 else { return }
        paragraph += string
        collected += string.utf8.count
        if collected > maximumTextBytes { stop(parser) }
    }

    override func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "text:p":
            inParagraph -= 1
            let line = paragraph.trimmingCharacters(in: .whitespacesAndNewlines)
            if !line.isEmpty { cellText?.append(line) }
        case "table:table-cell", "table:covered-table-cell":
            let text = (cellText ?? []).joined(separator: " ")
            cellText = nil
            if text.isEmpty {
                column += cellRepeats
            } else {
                for _ in 0..<min(cellRepeats, Self.maximumRepeats) {
                    row?[column] = text
                    column += 1
                }
                column += max(cellRepeats - Self.maximumRepeats, 0)
            }
        case "table:table-row":
            if let row, !row.isEmpty {
                for _ in 0..<min(rowRepeats, Self.maximumRepeats) { table?.rows.append(row) }
            }
            row = nil
        case "table:table":
            if let table { tables.append(table) }
            table = nil
        default: break
        }
    }
}
