import Foundation
import Ingest
import KnowledgeBase
import Testing

@Suite("Chunker")
struct ChunkerTests {
    /// `count` paragraphs of about `length` characters, each naming its number.
    private func paragraphs(_ count: Int, length: Int) -> String {
        (0..<count).map { index in
            let words = "Paragraph \(index) says something about knowledge bases and search. "
            return String(String(repeating: words, count: length / words.count + 1).prefix(length)).trimmingCharacters(in: .whitespaces) + "."
        }.joined(separator: "\n\n")
    }

    private func check(_ chunks: [NewChunk], of text: String, target: Int) {
        let characters = Array(text)
        for (index, chunk) in chunks.enumerated() {
            #expect(chunk.ordinal == index)
            #expect(String(characters[chunk.start..<chunk.end]) == chunk.text, "offsets of chunk \(index)")
            #expect(chunk.text.count <= target, "chunk \(index) has \(chunk.text.count) characters")
        }
        // Every non-space character is in some chunk.
        var covered = [Bool](repeating: false, count: characters.count)
        for chunk in chunks { for index in chunk.start..<chunk.end { covered[index] = true } }
        #expect(zip(characters, covered).allSatisfy { $0.isWhitespace || $1 })
    }

    @Test func shortTextIsOneChunkWithItsOffsets() {
        let text = "  Hello there.\n\nA second paragraph.  "
        let chunks = Chunker().chunks(of: text)
        #expect(chunks == [NewChunk(ordinal: 0, start: 2, end: 35, text: "Hello there.\n\nA second paragraph.")])
        #expect(Chunker().chunks(of: " \n\n ").isEmpty)
    }

    @Test func paragraphsArePackedUpToTheTargetAndCutBetweenParagraphs() {
        let text = paragraphs(10, length: 300)
        let chunker = Chunker(targetCharacters: 1000, overlapCharacters: 0)
        let chunks = chunker.chunks(of: text)
        check(chunks, of: text, target: 1000)
        // Three 300-character paragraphs (and their breaks) fit in 1,000: 4 chunks of 3, 3, 3, 1.
        #expect(chunks.count == 4)
        #expect(chunks.allSatisfy { $0.text.hasPrefix("Paragraph ") && $0.text.hasSuffix(".") })
    }

    @Test func eachChunkRepeatsTheEndOfThePreviousOneFromAWordStart() {
        let text = paragraphs(10, length: 300)
        let chunks = Chunker(targetCharacters: 1000, overlapCharacters: 150).chunks(of: text)
        check(chunks, of: text, target: 1000)
        let characters = Array(text)
        for (previous, next) in zip(chunks, chunks.dropFirst()) {
            #expect(next.start < previous.end, "chunk \(next.ordinal) overlaps the one before")
            #expect(previous.end - next.start <= 150)
            #expect(characters[next.start - 1].isWhitespace, "chunk \(next.ordinal) starts at a word")
        }
    }

    @Test func aHeadingStartsANewChunk() {
        let text = paragraphs(2, length: 400) + "\n\n## Next section\n\n" + paragraphs(1, length: 200)
        let chunks = Chunker(targetCharacters: 2000, overlapCharacters: 100).chunks(of: text)
        check(chunks, of: text, target: 2000)
        #expect(chunks.count == 2)
        #expect(chunks[1].text.hasPrefix("## Next section\n\nParagraph 0"))
    }

    @Test func aParagraphLongerThanAChunkIsCutBetweenSentencesThenWords() {
        let sentence = "This sentence is about sixty characters long, give or take. "
        let text = String(repeating: sentence, count: 40) + String(repeating: "word ", count: 300)
        let chunks = Chunker(targetCharacters: 500, overlapCharacters: 50).chunks(of: text)
        check(chunks, of: text, target: 500)
        #expect(chunks.count > 8)
        #expect(chunks.first!.text.hasSuffix("take."))
        #expect(chunks.allSatisfy { !$0.text.hasSuffix("wor") })
    }

    @Test func aTextWithPagesIsCutPageByPageAndEachPassageSaysItsPage() {
        let first = String(repeating: "First page words. ", count: 30)  // 540 Characters
        let text = first + "\n\n" + "Second page, read by OCR."
        let extracted = ExtractedText(text: text, pages: [TextPage(start: 0, number: 1), TextPage(start: first.count + 2, number: 2, source: "ocr")])
        let chunks = Chunker(targetCharacters: 400, overlapCharacters: 50).chunks(of: extracted)
        #expect(chunks.map(\.page) == [1, 1, 2])
        #expect(chunks.map(\.source) == [nil, nil, "ocr"])
        #expect(chunks.map(\.ordinal) == [0, 1, 2])
        // Offsets are in the whole text, and no passage runs into the next page.
        for chunk in chunks { #expect(String(Array(text)[chunk.start..<chunk.end]) == chunk.text) }
        #expect(chunks.last?.text == "Second page, read by OCR.")
        #expect(!chunks[1].text.contains("Second"))
    }
}
