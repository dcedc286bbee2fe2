import Foundation
import Ingest
import IntakeTesting
import Testing

/// What every store does with uploads and documents, on every backend.
@Suite struct CatalogContractTests {
    @Test(arguments: ContractBackend.available)
    func uploadDocumentsAndJobsAreRecordedTogether(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            let receipt = try await store.record(
                NewUpload(
                    knowledgeBase: "manuals", fields: [UploadField(name: "title", value: "Q3"), UploadField(name: "tag", value: "a")],
                    documents: [document("a.pdf"), document("b.pdf", sha: "b")]))
            #expect(receipt.knowledgeBase == "manuals")
            #expect(receipt.fields.map(\.name) == ["title", "tag"])
            #expect(receipt.documents.map(\.filename) == ["a.pdf", "b.pdf"])
            #expect(receipt.documents.allSatisfy { $0.status == .queued })
            #expect(try await store.upload(id: receipt.id) == receipt)
            #expect(try await store.document(id: receipt.documents[0].id) == receipt.documents[0])
            #expect(try await store.knowledgeBase(ofDocument: receipt.documents[0].id) == "manuals")
            #expect(try await store.referencedDigests() == [String(repeating: "a", count: 64), String(repeating: "b", count: 64)])
            #expect(try await store.events(after: 0, limit: 10).map(\.state) == [.queued, .queued])
            #expect(try await store.job(documentID: receipt.documents[1].id)?.state == .queued)
            #expect(try await store.statusCounts() == [.queued: 2])
            #expect(try await store.upload(id: "no such upload") == nil)
        }
    }

    @Test(arguments: ContractBackend.available)
    func aDocumentThatBreaksTheSchemaRollsBackTheWholeUpload(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            var bad = document("bad.pdf")
            bad.sha256 = "not a digest"
            await #expect(throws: (any Error).self) {
                _ = try await fixture.store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("ok.pdf"), bad]))
            }
            #expect(try await fixture.store.referencedDigests().isEmpty)
            #expect(try await fixture.store.events(after: 0, limit: 10).isEmpty)
            #expect(try await fixture.store.newestEventID() == 0)
        }
    }

    @Test(arguments: ContractBackend.available)
    func anUploadWhoseBlobWasRemovedBeforeItsRecordIsNotRecorded(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            await #expect(throws: CatalogError.blobRemoved(sha256: String(repeating: "a", count: 64))) {
                try await fixture.store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("a.pdf")]), completing: nil, blobIsPresent: { _ in false })
            }
            #expect(try await fixture.store.documents(DocumentQuery()).documents.isEmpty)
        }
    }

    @Test(arguments: ContractBackend.available)
    func blobsAreReleasedOnlyWhenNoDocumentHasThem(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            let a = String(repeating: "a", count: 64)
            let receipt = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("a.pdf"), document("b.pdf", sha: "b")]))
            let removed = try await store.releaseBlobs([a, String(repeating: "c", count: 64)]) { _ in }
            #expect(removed == [String(repeating: "c", count: 64)])
            #expect(try await store.deleteDocument(id: receipt.documents[0].id) == a)
            #expect(try await store.releaseBlobs([a]) { _ in } == [a])
            #expect(try await store.deleteDocument(id: receipt.documents[0].id) == nil)
        }
    }

    @Test(arguments: ContractBackend.available)
    func deletingADocumentTakesItsJobAndPassagesWithIt(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            let receipt = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("a.md"), document("b.md")]))
            let job = try #require(try await store.claim(worker: "w", lease: .seconds(60)))
            try await store.complete(job, chunks: [NewChunk(ordinal: 0, start: 0, end: 11, text: "unforgettable")], note: nil)
            #expect(try await store.deleteDocument(id: job.documentID) != nil)
            #expect(try await store.document(id: job.documentID) == nil)
            #expect(try await store.job(documentID: job.documentID) == nil)
            #expect(try await store.chunks(documentID: job.documentID).isEmpty)
            #expect(try await store.search(SearchQuery(text: "unforgettable")).isEmpty)
            // The upload and its other document stay.
            #expect(try await store.upload(id: receipt.id)?.documents.count == 1)
        }
    }

    /// Five uploads of one document each, in knowledge bases "even" and "odd" by their number;
    /// the fourth (number 3) has digest "d…", the others "a…". Returns the documents' ids in order.
    private func recordFiveDocuments(_ store: any IntakeStore) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<5 {
            let receipt = try await store.record(
                NewUpload(
                    knowledgeBase: index.isMultiple(of: 2) ? "even" : "odd", fields: [],
                    documents: [document("\(index).pdf", sha: index == 3 ? "d" : "a")]))
            ids.append(receipt.documents[0].id)
        }
        return ids
    }

    @Test(arguments: ContractBackend.available)
    func documentsArePagedNewestFirstWhenAskedAndFiltered(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            let ids = try await recordFiveDocuments(store)
            let first = try await store.documents(DocumentQuery(limit: 2, newestFirst: true))
            #expect(first.documents.map(\.id) == [ids[4], ids[3]])
            let afterFirst: String = try #require(first.nextCursor)
            let second = try await store.documents(DocumentQuery(limit: 2, cursor: afterFirst, newestFirst: true))
            #expect(second.documents.map(\.id) == [ids[2], ids[1]])
            let afterSecond: String = try #require(second.nextCursor)
            let last = try await store.documents(DocumentQuery(limit: 2, cursor: afterSecond, newestFirst: true))
            #expect(last.documents.map(\.id) == [ids[0]])
            #expect(last.nextCursor == nil)
            #expect(try await store.documents(DocumentQuery(knowledgeBase: "even", newestFirst: true)).documents.map(\.id) == [ids[4], ids[2], ids[0]])
        }
    }

    @Test(arguments: ContractBackend.available)
    func documentsArePagedOldestFirstAndFiltered(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            let ids = try await recordFiveDocuments(store)
            let first = try await store.documents(DocumentQuery(limit: 2))
            #expect(first.documents.map(\.id) == Array(ids[0..<2]))
            let afterFirst = try #require(first.nextCursor)
            let second = try await store.documents(DocumentQuery(limit: 2, cursor: afterFirst))
            #expect(second.documents.map(\.id) == Array(ids[2..<4]))
            let afterSecond = try #require(second.nextCursor)
            let last = try await store.documents(DocumentQuery(limit: 2, cursor: afterSecond))
            #expect(last.documents.map(\.id) == [ids[4]])
            #expect(last.nextCursor == nil)
            #expect(try await store.documents(DocumentQuery(knowledgeBase: "odd")).documents.map(\.id) == [ids[1], ids[3]])
            #expect(try await store.documents(DocumentQuery(sha256: String(repeating: "d", count: 64))).documents.map(\.id) == [ids[3]])
            _ = try #require(try await store.claim(worker: "w", lease: .seconds(60)))
            #expect(try await store.documents(DocumentQuery(status: .processing)).documents.map(\.id) == [ids[0]])
            await #expect(throws: InvalidCursor.self) { _ = try await store.documents(DocumentQuery(cursor: "not a cursor")) }
        }
    }

    @Test(arguments: ContractBackend.available)
    func reopeningTheDatabaseKeepsEverything(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let receipt = try await fixture.store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("1")]))
            let reopened = try await fixture.reopen()
            #expect(try await reopened.upload(id: receipt.id) == receipt)
            try await reopened.close()
        }
    }
}
