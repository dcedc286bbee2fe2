import Foundation
import Testing

@testable import KnowledgeBase

/// The readers added for RTF and spreadsheets against input made to cost: deep nesting, huge
/// repeat counts, control words with absurd parameters, garbage. Each ends, bounded, without crashing.
@Suite struct HostileTextFormatTests {
    @Test func rtfNestingBinaryRunsAndGarbageAreBounded() {
        // 200,000 groups deep, then text: read at the depth bound, the text kept.
        let deep = Array((String(repeating: "{", count: 200_000) + "deep text" + String(repeating: "}", count: 200_000)).utf8)
        #expect(RTFExtractor.text(of: deep, maximumTextBytes: 1 << 20).0 == "deep text")
        // A \bin that claims more bytes than there are, \u out of range, a control word 10,000 letters long.
        let odd = Array(#"{\rtf1 before \bin99999999999 after}"#.utf8)
        #expect(RTFExtractor.text(of: odd, maximumTextBytes: 1 << 20).0 == "before")
        let wild = Array((#"{\rtf1 a\u-99999999999?b\uc99999 \u65 c"# + "\\" + String(repeating: "x", count: 10_000) + " d}").utf8)
        _ = RTFExtractor.text(of: wild, maximumTextBytes: 1 << 20)
        // Random bytes: whatever comes out is bounded by the limit.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let (text, _) = RTFExtractor.text(of: bytes, maximumTextBytes: 1000)
            #expect(text.utf8.count <= 1000)
        }
        // Text past the limit is cut and said to be.
        let long = Array(("{\\rtf1 " + String(repeating: "word ", count: 10_000) + "}").utf8)
        let (cut, isTruncated) = RTFExtractor.text(of: long, maximumTextBytes: 100)
        #expect(cut.utf8.count <= 100 && isTruncated)
    }

    @Test func spreadsheetRepeatCountsAndFarColumnsAreBounded() throws {
        // An OpenDocument cell repeated over a million columns and rows, with a value: 64 times each, not a million.
        let content = """
            <office:document-content xmlns:office="o" xmlns:table="t" xmlns:text="x"><office:body><office:spreadsheet>
            <table:table table:name="Bomb">
            <table:table-row><table:table-cell><text:p>Head</text:p></table:table-cell></table:table-row>
            <table:table-row table:number-rows-repeated="1000000">
            <table:table-cell table:number-columns-repeated="1048576"><text:p>v</text:p></table:table-cell>
            </table:table-row></table:table></office:spreadsheet></office:body></office:document-content>
            """
        let tables = try OpenDocumentTables.read(Data(content.utf8), maximumTextBytes: 1 << 20)
        #expect(tables.count == 1)
        #expect(tables[0].rows.count == 1 + OpenDocumentTables.maximumRepeats)
        #expect(tables[0].rows[1].count == OpenDocumentTables.maximumRepeats)
        // A worksheet cell far to the right, a reference with too many letters, a million empty rows.
        let sheet =
            "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>Name</t></is></c></row>"
            + String(repeating: "<row/>", count: 100_000)
            + "<row><c r=\"XFD7\"><v>far</v></c><c r=\"ABCDE7\"><v>next</v></c></row></sheetData></worksheet>"
        let rows = try WorksheetCells.read(Data(sheet.utf8), shared: [], maximumTextBytes: 1 << 20)
        #expect(rows.count == 2)  // the empty rows are not kept
        #expect(rows[1] == [16383: "far", 16384: "next"])
        #expect(SpreadsheetTable(name: "S", rows: rows).rendered() == "## S\nXFD: far · XFE: next")
    }
}
