import Foundation
import Ingest
import IngestSQLite
import KnowledgeBase
import Testing

/// A fresh SQLite store in a temporary directory.
struct TemporaryStore {
    let directory: String
    let store: SQLiteStore

    init(retry: RetryPolicy = RetryPolicy()) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-kb-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory + "/intake.sqlite", retry: retry, jitter: { 0 })
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// Records a document and processes it with `text` as its extracted text.
    @discardableResult
    func indexed(_ filename: String, _ text: String, knowledgeBase: String = "kb", chunker: Chunker = Chunker()) async throws -> String {
        let receipt = try await store.record(NewUpload(knowledgeBase: knowledgeBase, fields: [], documents: [
            NewDocument(fieldName: "doc", filename: filename, filenameStar: nil, declaredType: nil, detectedType: "text/plain",
                        charset: "utf-8", size: text.utf8.count, sha256: String(repeating: "a", count: 64)),
        ]))
        let job = try #require(try await store.claim(worker: "test", lease: .seconds(60)))
        try await store.complete(job, chunks: chunker.chunks(of: text), note: nil)
        return receipt.documents[0].id
    }
}

@Suite("Search index (SQLite FTS5)")
struct SearchIndexTests {
    @Test func whateverAPersonTypesIsWordsNeverQuerySyntax() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        try await temporary.indexed("a.md", "Quoted \"words\" and ൎ marks: NEAR OR AND NOT * ^ - + ( ) { } : ' ` text.")
        // One scalar of every general category, FTS5's syntax, and the case that once answered 500.
        let scalars: [Unicode.Scalar] = [
            "A", "a", "ǅ", "ʰ", "ൎ", "\u{0301}", "\u{0903}", "\u{20DD}", "7", "Ⅻ", "½", "_", "-", "(", ")", "«", "»", "!", "+",
            "$", "^", "©", " ", "\u{2028}", "\u{2029}", "\u{0001}", "\u{200B}", "\u{E000}", "\"", "'", "*", ":", "{", "}", "\\", "\u{10FFFD}",
        ]
        var generator = SystemRandomNumberGenerator()
        var queries = ["ൎ\"", "\"", "\"\"", "a\"b", "NEAR(a b)", "a OR", "-a", "a*", "^a", "\u{0301}\""]
        for _ in 0..<500 {
            queries.append(String(String.UnicodeScalarView((0..<Int.random(in: 1...8, using: &generator)).map { _ in scalars.randomElement(using: &generator)! })))
        }
        for query in queries {
            do {
                _ = try await temporary.store.search(SearchQuery(text: query))
            } catch {
                Issue.record("the query \(query.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }) failed: \(error)")
            }
        }
        #expect(try await temporary.store.search(SearchQuery(text: "\"words\"")).count == 1)
    }

    @Test func theMostRelevantPassageComesFirstWithAMarkedSnippet() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let chunking = try await temporary.indexed("chunking.md", "Chunking cuts text into passages. Overlap keeps sentences whole across passages; chunking is tuned by size.")
        let search = try await temporary.indexed("search.md", "Search ranks passages with BM25 and shows a snippet.")
        try await temporary.indexed("other.md", "Nothing about the topic at all, just words.")
        let hits = try await temporary.store.search(SearchQuery(text: "chunking overlap"))
        #expect(hits.map(\.documentID) == [chunking])
        #expect(hits[0].filename == "chunking.md")
        #expect(hits[0].snippet.contains("«Chunking»") && hits[0].snippet.contains("«Overlap»"))
        #expect(hits[0].score > 0)
        let ranked = try await temporary.store.search(SearchQuery(text: "passages BM25 snippet"))
        #expect(ranked.map(\.documentID) == [search, chunking])
        #expect(ranked[0].score > ranked[1].score)
    }

    @Test func passagesWithEveryWordComeBeforePassagesWithSome() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let apples = try await temporary.indexed("apples.md", "apple apple apple apple apple")
        let bananas = try await temporary.indexed("bananas.md", "banana banana banana banana banana")
        let both = try await temporary.indexed("both.md", "a long passage that names an apple once and a banana once among many other words that dilute them both")
        let hits = try await temporary.store.search(SearchQuery(text: "apple banana"))
        #expect(hits.first?.documentID == both)
        #expect(Set(hits.dropFirst().map(\.documentID)) == [apples, bananas])
        // With a word no passage has, no passage has every word: BM25 over any of them, where the
        // diluted passage loses.
        let anyWord = try await temporary.store.search(SearchQuery(text: "apple banana nowhere"))
        #expect(anyWord.count == 3)
        #expect(anyWord.last?.documentID == both)
    }

    @Test func searchIsScopedToAKnowledgeBase() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let legal = try await temporary.indexed("a.md", "contract renewal terms", knowledgeBase: "legal")
        let sales = try await temporary.indexed("b.md", "contract pricing for renewal", knowledgeBase: "sales")
        #expect(try await temporary.store.search(SearchQuery(text: "contract", knowledgeBase: "legal")).map(\.documentID) == [legal])
        #expect(try await temporary.store.search(SearchQuery(text: "contract", knowledgeBase: "sales")).map(\.documentID) == [sales])
        #expect(try await temporary.store.search(SearchQuery(text: "contract")).count == 2)
    }

    @Test func aSmallKnowledgeBaseFindsItsPassageUnderManyBetterOnesOfAnother() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        for index in 0..<30 {
            try await temporary.indexed("big-\(index).md", "contract contract contract clause \(index)", knowledgeBase: "big")
        }
        let small = try await temporary.indexed("small.md", "a long text that mentions a contract only once among many other words", knowledgeBase: "small")
        #expect(try await temporary.store.search(SearchQuery(text: "contract", knowledgeBase: "small", limit: 1)).map(\.documentID) == [small])
        #expect(try await temporary.store.search(SearchQuery(text: "contract", limit: 5)).allSatisfy { $0.filename?.hasPrefix("big-") == true })
    }

    @Test func whateverAPersonTypesIsWordsNotQuerySyntax() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let id = try await temporary.indexed("a.md", "near the NOT operator and a quote")
        for query in ["\"unbalanced", "NOT", "a AND (", "col:umn*", "-", "near(\"the\")", "'; DROP TABLE chunks; --"] {
            _ = try await temporary.store.search(SearchQuery(text: query))
        }
        #expect(try await temporary.store.search(SearchQuery(text: "NOT operator")).map(\.documentID) == [id])
        #expect(try await temporary.store.search(SearchQuery(text: "  ,;  ")).isEmpty)
    }

    @Test func deletingADocumentRemovesItsChunksFromTheIndex() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let id = try await temporary.indexed("a.md", "an unforgettable phrase")
        #expect(try await temporary.store.chunks(documentID: id).count == 1)
        #expect(try await temporary.store.deleteDocument(id: id) != nil)
        #expect(try await temporary.store.chunks(documentID: id).isEmpty)
        #expect(try await temporary.store.search(SearchQuery(text: "unforgettable")).isEmpty)
    }

    @Test func reprocessingReplacesTheChunks() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let id = try await temporary.indexed("a.md", "old words")
        #expect(try await temporary.store.enqueue(documentID: id))
        let job = try #require(try await temporary.store.claim(worker: "w", lease: .seconds(60)))
        try await temporary.store.complete(job, chunks: Chunker().chunks(of: "new words"), note: nil)
        #expect(try await temporary.store.chunks(documentID: id).map(\.text) == ["new words"])
        #expect(try await temporary.store.search(SearchQuery(text: "old")).isEmpty)
    }
}
