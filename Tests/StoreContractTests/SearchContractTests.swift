import Foundation
import Ingest
import IntakeTesting
import KnowledgeBase
import Testing

/// Records documents and indexes their text as a worker does.
struct Indexer {
    let store: any IntakeStore

    /// Records a document and processes it with `text` as its extracted text.
    @discardableResult
    func indexed(_ filename: String, _ text: String, knowledgeBase: String = "kb", chunker: Chunker = Chunker()) async throws -> String {
        try await indexed(filename, ExtractedText(text: text), knowledgeBase: knowledgeBase, chunker: chunker)
    }

    /// Records a document (of type `detectedType`, its upload sent with `fields`) and processes it
    /// with `extracted` as what was extracted.
    @discardableResult
    func indexed(
        _ filename: String, _ extracted: ExtractedText, knowledgeBase: String = "kb", fields: [UploadField] = [], detectedType: String = "text/plain",
        chunker: Chunker = Chunker()
    ) async throws -> String {
        let text = extracted.text
        let receipt = try await store.record(
            NewUpload(
                knowledgeBase: knowledgeBase, fields: fields,
                documents: [
                    NewDocument(
                        fieldName: "doc", filename: filename, filenameStar: nil, declaredType: nil, detectedType: detectedType,
                        charset: "utf-8", size: text.utf8.count, sha256: String(repeating: "a", count: 64))
                ]))
        let job = try #require(try await store.claim(worker: "test", lease: .seconds(60)))
        try await store.complete(job, chunks: chunker.chunks(of: extracted), note: nil)
        return receipt.documents[0].id
    }
}

/// Search on every backend: ranking, snippets, tenancy, and words never taken as query syntax.
@Suite struct SearchContractTests {
    @Test(arguments: ContractBackend.available)
    func whateverAPersonTypesIsWordsNeverQuerySyntax(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let indexer = Indexer(store: fixture.store)
            try await indexer.indexed("a.md", "Quoted \"words\" and ൎ marks: NEAR OR AND NOT * ^ - + ( ) { } : ' ` text.")
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
                    _ = try await fixture.store.search(SearchQuery(text: query))
                } catch {
                    Issue.record("the query \(query.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }) failed: \(error)")
                }
            }
            #expect(try await fixture.store.search(SearchQuery(text: "\"words\"")).count == 1)
        }
    }

    @Test(arguments: ContractBackend.available)
    func theMostRelevantPassageComesFirstWithAMarkedSnippet(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let indexer = Indexer(store: fixture.store)
            let chunking = try await indexer.indexed("chunking.md", "Chunking cuts text into passages. Overlap keeps sentences whole across passages; chunking is tuned by size.")
            let search = try await indexer.indexed("search.md", "Search ranks passages with BM25 and shows a snippet.")
            try await indexer.indexed("other.md", "Nothing about the topic at all, just words.")
            let hits = try await fixture.store.search(SearchQuery(text: "chunking overlap"))
            #expect(hits.map(\.documentID) == [chunking])
            #expect(hits[0].filename == "chunking.md")
            #expect(hits[0].snippet.contains("«Chunking»") && hits[0].snippet.contains("«Overlap»"))
            #expect(hits[0].score > 0)
            let ranked = try await fixture.store.search(SearchQuery(text: "passages BM25 snippet"))
            #expect(ranked.map(\.documentID) == [search, chunking])
            #expect(ranked[0].score > ranked[1].score)
        }
    }

    @Test(arguments: ContractBackend.available)
    func passagesWithEveryWordComeBeforePassagesWithSome(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let indexer = Indexer(store: fixture.store)
            let apples = try await indexer.indexed("apples.md", "apple apple apple apple apple")
            let bananas = try await indexer.indexed("bananas.md", "banana banana banana banana banana")
            let both = try await indexer.indexed("both.md", "a long passage that names an apple once and a banana once among many other words that dilute them both")
            let hits = try await fixture.store.search(SearchQuery(text: "apple banana"))
            #expect(hits.first?.documentID == both)
            #expect(Set(hits.dropFirst().map(\.documentID)) == [apples, bananas])
            // With a word no passage has, no passage has every word: BM25 over any of them, where the
            // diluted passage loses.
            let anyWord = try await fixture.store.search(SearchQuery(text: "apple banana nowhere"))
            #expect(anyWord.count == 3)
            #expect(anyWord.last?.documentID == both)
        }
    }

    @Test(arguments: ContractBackend.available)
    func searchIsScopedToAKnowledgeBase(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let indexer = Indexer(store: fixture.store)
            let legal = try await indexer.indexed("a.md", "contract renewal terms", knowledgeBase: "legal")
            let sales = try await indexer.indexed("b.md", "contract pricing for renewal", knowledgeBase: "sales")
            #expect(try await fixture.store.search(SearchQuery(text: "contract", knowledgeBase: "legal")).map(\.documentID) == [legal])
            #expect(try await fixture.store.search(SearchQuery(text: "contract", knowledgeBase: "sales")).map(\.documentID) == [sales])
            #expect(try await fixture.store.search(SearchQuery(text: "contract")).count == 2)
        }
    }

    @Test(arguments: ContractBackend.available)
    func aSmallKnowledgeBaseFindsItsPassageUnderManyBetterOnesOfAnother(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let indexer = Indexer(store: fixture.store)
            for index in 0..<30 {
                try await indexer.indexed("big-\(index).md", "contract contract contract clause \(index)", knowledgeBase: "big")
            }
            let small = try await indexer.indexed("small.md", "a long text that mentions a contract only once among many other words", knowledgeBase: "small")
            #expect(try await fixture.store.search(SearchQuery(text: "contract", knowledgeBase: "small", limit: 1)).map(\.documentID) == [small])
            #expect(try await fixture.store.search(SearchQuery(text: "contract", limit: 5)).allSatisfy { $0.filename?.hasPrefix("big-") == true })
        }
    }

    @Test(arguments: ContractBackend.available)
    func whateverAPersonTypesIsWordsNotQuerySyntax(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let indexer = Indexer(store: fixture.store)
            let id = try await indexer.indexed("a.md", "near the NOT operator and a quote")
            for query in ["\"unbalanced", "NOT", "a AND (", "col:umn*", "-", "near(\"the\")", "'; DROP TABLE chunks; --"] {
                _ = try await fixture.store.search(SearchQuery(text: query))
            }
            #expect(try await fixture.store.search(SearchQuery(text: "NOT operator")).map(\.documentID) == [id])
            #expect(try await fixture.store.search(SearchQuery(text: "  ,;  ")).isEmpty)
        }
    }

    @Test(arguments: ContractBackend.available)
    func deletingADocumentRemovesItsChunksFromTheIndex(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let indexer = Indexer(store: fixture.store)
            let id = try await indexer.indexed("a.md", "an unforgettable phrase")
            #expect(try await fixture.store.chunks(documentID: id).count == 1)
            #expect(try await fixture.store.deleteDocument(id: id) != nil)
            #expect(try await fixture.store.chunks(documentID: id).isEmpty)
            #expect(try await fixture.store.search(SearchQuery(text: "unforgettable")).isEmpty)
        }
    }

    @Test(arguments: ContractBackend.available)
    func reprocessingReplacesTheChunks(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let indexer = Indexer(store: fixture.store)
            let id = try await indexer.indexed("a.md", "old words")
            #expect(try await fixture.store.enqueue(documentID: id))
            let job = try #require(try await fixture.store.claim(worker: "w", lease: .seconds(60)))
            try await fixture.store.complete(job, chunks: Chunker().chunks(of: "new words"), note: nil)
            #expect(try await fixture.store.chunks(documentID: id).map(\.text) == ["new words"])
            #expect(try await fixture.store.search(SearchQuery(text: "old")).isEmpty)
        }
    }

    @Test(arguments: ContractBackend.available)
    func aPassageKeepsItsPageAndWhetherOCRReadItAndSearchSaysThePage(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let text = "Page one is about ingestion.\n\nPage two, read from a scan, is about chunking."
            let pages = [TextPage(start: 0, number: 1), TextPage(start: 30, number: 2, source: "ocr")]
            let id = try await Indexer(store: fixture.store).indexed("scan.pdf", ExtractedText(text: text, pages: pages))
            let chunks = try await fixture.store.chunks(documentID: id)
            #expect(chunks.map(\.page) == [1, 2])
            #expect(chunks.map(\.source) == [nil, "ocr"])
            #expect(chunks.map(\.text) == ["Page one is about ingestion.", "Page two, read from a scan, is about chunking."])
            #expect(chunks.map(\.start) == [0, 30])
            #expect(try await fixture.store.search(SearchQuery(text: "chunking")).map(\.page) == [2])
            // A document without pages: no page, no source.
            let plain = try await Indexer(store: fixture.store).indexed("notes.txt", "Plain notes about ranking.")
            #expect(try await fixture.store.chunks(documentID: plain).map(\.page) == [nil])
            #expect(try await fixture.store.search(SearchQuery(text: "ranking")).first?.page == nil)
        }
    }

    @Test(arguments: ContractBackend.available)
    func searchesAndListingsAreNarrowedByUploadFieldsTypeAndUploadTime(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let indexer = Indexer(store: fixture.store)
            let start = fixture.clock.dates.now
            let handbook = try await indexer.indexed(
                "handbook.pdf", ExtractedText(text: "Retention: records are kept seven years."),
                fields: [UploadField(name: "title", value: "Handbook"), UploadField(name: "tags", value: "hr")], detectedType: "application/pdf")
            fixture.clock.advance(by: .seconds(3600))
            let middle = fixture.clock.dates.now
            let ledger = try await indexer.indexed(
                "ledger.txt", ExtractedText(text: "Retention of invoices: ten years."),
                fields: [UploadField(name: "tags", value: "finance"), UploadField(name: "tags", value: "hr")])
            func searched(_ filter: DocumentFilter) async throws -> Set<String> {
                Set(try await fixture.store.search(SearchQuery(text: "retention", filter: filter)).map(\.documentID))
            }
            func listed(_ filter: DocumentFilter) async throws -> Set<String> {
                Set(try await fixture.store.documents(DocumentQuery(filter: filter)).documents.map(\.id))
            }
            for look in [searched, listed] {
                #expect(try await look(DocumentFilter()) == [handbook, ledger])
                #expect(try await look(DocumentFilter(fields: [UploadField(name: "tags", value: "hr")])) == [handbook, ledger])
                // Every field given must match (a field sent twice matches either value).
                #expect(try await look(DocumentFilter(fields: [UploadField(name: "tags", value: "hr"), UploadField(name: "tags", value: "finance")])) == [ledger])
                #expect(try await look(DocumentFilter(fields: [UploadField(name: "title", value: "Handbook"), UploadField(name: "tags", value: "finance")])).isEmpty)
                #expect(try await look(DocumentFilter(fields: [UploadField(name: "title", value: "handbook")])).isEmpty)  // exact values
                #expect(try await look(DocumentFilter(detectedType: "application/pdf")) == [handbook])
                #expect(try await look(DocumentFilter(uploadedAfter: middle)) == [ledger])
                #expect(try await look(DocumentFilter(uploadedBefore: middle)) == [handbook])
                #expect(try await look(DocumentFilter(uploadedAfter: start, uploadedBefore: middle.addingTimeInterval(1))) == [handbook, ledger])
            }
        }
    }
}
