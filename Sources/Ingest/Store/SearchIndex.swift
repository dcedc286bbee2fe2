/// Where processed documents' passages are kept and searched.
///
/// A worker finishes a job with ``complete(_:chunks:note:)``: the document's chunks are replaced
/// and it is marked processed in one transaction, so a search never sees half a document and a
/// worker that lost its lease changes nothing.
public protocol SearchIndex: Sendable {
    /// Replaces the chunks of `job`'s document with `chunks` and marks it processed, with `note`
    /// saying why there are none when that is so. Throws ``QueueError/leaseLost`` if the lease is
    /// no longer the caller's.
    func complete(_ job: ClaimedJob, chunks: [NewChunk], note: String?) async throws

    /// The chunks of document `id`, in order.
    func chunks(documentID id: String) async throws -> [ChunkRecord]

    /// The passages that best match `query`: those with every word first, then those with any.
    func search(_ query: SearchQuery) async throws -> [SearchHit]
}

/// A passage of a document's extracted text.
public struct NewChunk: Sendable, Hashable {
    /// 0, 1, 2… in document order.
    public var ordinal: Int
    /// Character offsets of the passage in the extracted text (`end` excluded).
    public var start: Int
    public var end: Int
    public var text: String
    /// The page (or slide) it begins on, from 1, when the format has pages.
    public var page: Int?
    /// How its text was obtained, when not from the document's text itself: `ocr`.
    public var source: String?

    public init(ordinal: Int, start: Int, end: Int, text: String, page: Int? = nil, source: String? = nil) {
        self.ordinal = ordinal
        self.start = start
        self.end = end
        self.text = text
        self.page = page
        self.source = source
    }
}

/// A stored chunk.
public struct ChunkRecord: Sendable, Hashable {
    public var documentID: String
    public var ordinal: Int
    public var start: Int
    public var end: Int
    public var text: String
    /// ``NewChunk/page``.
    public var page: Int?
    /// ``NewChunk/source``.
    public var source: String?

    public init(documentID: String, ordinal: Int, start: Int, end: Int, text: String, page: Int? = nil, source: String? = nil) {
        self.documentID = documentID
        self.ordinal = ordinal
        self.start = start
        self.end = end
        self.text = text
        self.page = page
        self.source = source
    }
}

/// What to search for, and where.
public struct SearchQuery: Sendable, Hashable {
    /// Words to look for, as a person types them (no query syntax: every word is taken as is).
    public var text: String
    /// Only this knowledge base's documents; nil for all.
    public var knowledgeBase: String?
    /// At most this many results (1...100).
    public var limit: Int
    /// Only passages of the documents it keeps.
    public var filter: DocumentFilter

    public init(text: String, knowledgeBase: String? = nil, limit: Int = 10, filter: DocumentFilter = DocumentFilter()) {
        self.text = text
        self.knowledgeBase = knowledgeBase
        self.limit = limit
        self.filter = filter
    }
}

extension SearchQuery {
    /// ``limit`` held to 1...100.
    public var resultCount: Int { min(max(limit, 1), 100) }

    /// The words of ``text`` as every index takes them: runs of letters, marks and digits, cut by
    /// Unicode scalar (not by `Character`: a grapheme cluster can join a letter to a quote, and a
    /// quote inside a word would end a quoted term), at most 32. Whatever else a person typed
    /// (quotes, operators, punctuation) separates words and is never query syntax.
    public var words: [String] {
        text.unicodeScalars.split { !Self.isWordScalar($0) }.prefix(32).map { String(String.UnicodeScalarView($0)) }
    }

    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }
}

extension [SearchHit] {
    /// These passages (those with every word), then those of `more` (with any word) not among
    /// them, `limit` in all: how every index answers a search.
    public func followed(by more: [SearchHit], upTo limit: Int) -> [SearchHit] {
        let seen = Set(map { "\($0.documentID)#\($0.chunk)" })
        return self + more.filter { !seen.contains("\($0.documentID)#\($0.chunk)") }.prefix(Swift.max(limit - count, 0))
    }
}

/// One passage that matched.
public struct SearchHit: Sendable, Hashable {
    public var documentID: String
    public var filename: String?
    /// The chunk's ordinal in its document.
    public var chunk: Int
    /// Relevance (BM25; higher is better).
    public var score: Double
    /// A short excerpt around the matches, with each match between `«` and `»`.
    public var snippet: String
    /// The page the passage begins on, when its document has pages.
    public var page: Int?

    public init(documentID: String, filename: String?, chunk: Int, score: Double, snippet: String, page: Int? = nil) {
        self.documentID = documentID
        self.filename = filename
        self.chunk = chunk
        self.score = score
        self.snippet = snippet
        self.page = page
    }
}
