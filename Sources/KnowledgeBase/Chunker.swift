public import Ingest

/// Cuts extracted text into passages for search and retrieval: about ``targetCharacters`` each
/// (≈ 800 tokens at ~4 characters a token), along paragraph boundaries where it can, with a
/// heading starting a new passage, and ``overlapCharacters`` of the previous passage repeated at
/// the start of the next (from a word boundary) so no sentence is only ever seen cut in two.
///
/// A paragraph longer than a passage is cut between sentences, and a sentence longer than a
/// passage between words. Offsets count Characters (grapheme clusters) of the extracted text.
public struct Chunker: Sendable, Hashable {
    public var targetCharacters: Int
    public var overlapCharacters: Int

    public init(targetCharacters: Int = 3200, overlapCharacters: Int = 400) {
        precondition(targetCharacters > 0 && overlapCharacters >= 0 && overlapCharacters < targetCharacters)
        self.targetCharacters = targetCharacters
        self.overlapCharacters = overlapCharacters
    }

    /// The passages of `extracted`: of each page on its own when it has pages (a passage never
    /// runs from one page into the next, so it can say which page it is on, and whether OCR read
    /// it), of the whole text otherwise. Offsets are in the whole text.
    public func chunks(of extracted: ExtractedText) -> [NewChunk] {
        guard !extracted.pages.isEmpty else { return chunks(of: extracted.text) }
        let characters = Array(extracted.text)
        var chunks: [NewChunk] = []
        for (index, page) in extracted.pages.enumerated() where page.start < characters.count {
            let end = index + 1 < extracted.pages.count ? min(extracted.pages[index + 1].start, characters.count) : characters.count
            guard page.start < end else { continue }
            for var chunk in self.chunks(of: String(characters[page.start..<end])) {
                chunk.ordinal = chunks.count
                chunk.start += page.start
                chunk.end += page.start
                chunk.page = page.number
                chunk.source = page.source
                chunks.append(chunk)
            }
        }
        return chunks
    }

    public func chunks(of text: String) -> [NewChunk] {
        let characters = Array(text)
        var chunks: [NewChunk] = []
        var start: Int?
        var end = 0
        func emit(_ from: Int, _ to: Int) {
            var lower = from, upper = to
            while lower < upper, characters[lower].isWhitespace { lower += 1 }
            while upper > lower, characters[upper - 1].isWhitespace { upper -= 1 }
            guard lower < upper else { return }
            chunks.append(NewChunk(ordinal: chunks.count, start: lower, end: upper, text: String(characters[lower..<upper])))
        }
        for unit in units(characters) {
            if let current = start {
                let headingBreak = unit.isHeading && end - current >= targetCharacters / 4
                if headingBreak || unit.end - current > targetCharacters {
                    emit(current, end)
                    let overlapped = headingBreak ? nil : overlapStart(characters, previousStart: current, previousEnd: end)
                    start = overlapped.flatMap { unit.end - $0 <= targetCharacters ? $0 : nil } ?? unit.start
                }
            } else {
                start = unit.start
            }
            end = unit.end
        }
        if let current = start { emit(current, end) }
        return chunks
    }

    /// Where the overlap of a passage ending at `previousEnd` begins: the first word start at or
    /// after `previousEnd - overlapCharacters`, never at or before the passage's own start.
    private func overlapStart(_ characters: [Character], previousStart: Int, previousEnd: Int) -> Int? {
        guard overlapCharacters > 0 else { return nil }
        var index = max(previousEnd - overlapCharacters, previousStart + 1)
        while index < previousEnd, !(characters[index - 1].isWhitespace && !characters[index].isWhitespace) { index += 1 }
        return index < previousEnd ? index : nil
    }

    private struct Unit {
        var start: Int
        var end: Int
        var isHeading: Bool
    }

    /// Paragraphs (runs of non-blank lines); those longer than a passage in sentences; sentences
    /// longer than a passage in pieces cut at a space.
    private func units(_ characters: [Character]) -> [Unit] {
        var units: [Unit] = []
        var index = 0
        while index < characters.count {
            while index < characters.count, characters[index].isWhitespace { index += 1 }
            guard index < characters.count else { break }
            let start = index
            // A paragraph ends at a blank line.
            while index < characters.count {
                if characters[index].isNewline {
                    var look = index + 1
                    while look < characters.count, characters[look].isWhitespace, !characters[look].isNewline { look += 1 }
                    if look >= characters.count || characters[look].isNewline { break }
                }
                index += 1
            }
            // Markdown headings, and HTML headings (the HTML extractor writes them so).
            let isHeading = characters[start] == "#"
            if index - start <= targetCharacters {
                units.append(Unit(start: start, end: index, isHeading: isHeading))
            } else {
                units += pieces(characters, from: start, to: index)
            }
        }
        return units
    }

    private func pieces(_ characters: [Character], from start: Int, to end: Int) -> [Unit] {
        var units: [Unit] = []
        var sentenceStart = start
        var index = start
        while index < end {
            let isBoundary =
                characters[index].isNewline
                || (".!?".contains(characters[index]) && index + 1 < end && characters[index + 1].isWhitespace)
            if isBoundary || index + 1 == end {
                let sentenceEnd = index + 1
                var pieceStart = sentenceStart
                while sentenceEnd - pieceStart > targetCharacters {
                    var cut = pieceStart + targetCharacters
                    while cut > pieceStart + targetCharacters / 2, !characters[cut].isWhitespace { cut -= 1 }
                    if !characters[cut].isWhitespace { cut = pieceStart + targetCharacters }
                    units.append(Unit(start: pieceStart, end: cut, isHeading: false))
                    pieceStart = cut
                }
                units.append(Unit(start: pieceStart, end: sentenceEnd, isHeading: false))
                sentenceStart = sentenceEnd
            }
            index += 1
        }
        return units
    }
}
