import Crypto
import Foundation
import GRDB
import Ingest
@testable import IngestSQLite
import Synchronization
import Testing

/// Uploads recorded while the writer is busy share the next transaction and its fsync; each is
/// answered only once that transaction has committed, and one that fails is rolled back alone.
@Suite struct SQLiteGroupCommitTests {
    private func upload(_ index: Int) -> NewUpload {
        NewUpload(
            knowledgeBase: "kb", fields: [UploadField(name: "n", value: "\(index)")],
            documents: [
                NewDocument(
                    fieldName: "doc", filename: "d\(index).txt", filenameStar: nil, declaredType: "text/plain", detectedType: "text/plain",
                    charset: "us-ascii", size: 4, sha256: String(repeating: String(index % 10), count: 64))
            ])
    }

    /// Holds the store's writer until `release` is signalled, so that uploads pile up behind it.
    private func holdWriter(_ store: SQLiteStore) async -> (release: @Sendable () -> Void, done: Task<Void, any Error>) {
        let holding = Atomic<Bool>(false)
        let gate = DispatchSemaphore(value: 0)
        let done = Task {
            try await store.database.writeWithoutTransaction { _ in
                holding.store(true, ordering: .sequentiallyConsistent)
                gate.wait()
            }
        }
        while !holding.load(ordering: .sequentiallyConsistent) { await Task.yield() }
        return ({ gate.signal() }, done)
    }

    private func waitUntilSubmitted(_ store: SQLiteStore, _ count: Int) async {
        while store.uploadCommits.counts.submitted < count { await Task.yield() }
    }

    @Test func uploadsThatArriveTogetherShareOneCommitAndAreOnDiskWhenAnswered() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/intake.sqlite"
        let store = try SQLiteStore(path: path)
        let (release, held) = await holdWriter(store)
        let recorded = Task {
            try await withThrowingTaskGroup(of: UploadReceipt.self) { group in
                for index in 0..<16 { group.addTask { try await store.record(upload(index), completing: nil, blobIsPresent: { _ in true }) } }
                return try await group.reduce(into: [UploadReceipt]()) { $0.append($1) }
            }
        }
        await waitUntilSubmitted(store, 16)
        #expect(store.uploadCommits.counts.commits == 0, "nothing is answered while the writer is held")
        release()
        try await held.value
        let receipts = try await recorded.value
        #expect(receipts.count == 16)
        // The first batch may have taken some before they were all in; the rest wait for one more.
        #expect(store.uploadCommits.counts.commits <= 2)
        // What was answered is in the file, for a connection opened afresh (as after a restart).
        let reopened = try DatabaseQueue(path: path)
        let ids = try await reopened.read { db in Set(try String.fetchAll(db, sql: "SELECT id FROM uploads")) }
        #expect(ids == Set(receipts.map(\.id)))
        try reopened.close()
    }

    @Test func anUploadThatFailsInABatchIsRolledBackAloneAndItsNeighboursCommit() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(path: directory.path + "/intake.sqlite")
        let (release, held) = await holdWriter(store)
        let outcomes = Task {
            await withTaskGroup(of: (Int, Result<UploadReceipt, any Error>).self) { group in
                for index in 0..<8 {
                    group.addTask {
                        // Upload 3's blob was removed meanwhile (garbage collection won the race).
                        let result = await Result { try await store.record(upload(index), completing: nil, blobIsPresent: { _ in index != 3 }) }
                        return (index, result)
                    }
                }
                return await group.reduce(into: [Int: Result<UploadReceipt, any Error>]()) { $0[$1.0] = $1.1 }
            }
        }
        await waitUntilSubmitted(store, 8)
        release()
        try await held.value
        let results = await outcomes.value
        for (index, result) in results {
            if index == 3 {
                #expect(throws: CatalogError.self) { try result.get() }
            } else {
                #expect(throws: Never.self) { try result.get() }
            }
        }
        #expect(try await store.statusCounts()[.queued] == 7)
        let recorded = try await store.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM uploads") }
        #expect(recorded == 7, "the failed upload left no row; its neighbours in the batch all committed")
    }

    /// An upload whose blob could not be made durable is answered with the storage error and is
    /// in no commit; the uploads that finished beside it share one and are all recorded.
    @Test func anUploadWhoseBlobFailedToSyncIsNotRecordedAndItsNeighboursCommitTogether() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let contents = (0..<8).map { Array("document \($0)\n".utf8) }
        let failing = SHA256.hash(data: contents[3]).map { String(format: "%02x", $0) }.joined()
        let blobs = BlobStoreFailingToSync(base: try DirectoryBlobStore(root: directory.path), failing: failing)
        let catalog = try SQLiteStore(path: directory.path + "/intake.sqlite")
        let ingestor = Ingestor(store: blobs, sniffer: IngestHarness.sniffer, catalog: catalog)
        let (release, held) = await holdWriter(catalog)
        let outcomes = Task {
            await withTaskGroup(of: (Int, Result<UploadReceipt, IngestError>).self) { group in
                for (index, content) in contents.enumerated() {
                    group.addTask {
                        var body = UploadBody()
                        body.file("doc", filename: "d\(index).txt", type: "text/plain", data: content)
                        do throws(IngestError) {
                            let receipt = try await ingestor.ingest(
                                contentType: body.contentType, body: Chunks(body.finished(), size: 4096), knowledgeBase: "kb")
                            return (index, .success(receipt))
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                }
                return await group.reduce(into: [Int: Result<UploadReceipt, IngestError>]()) { $0[$1.0] = $1.1 }
            }
        }
        // The seven good uploads wait for the writer; the failed one never asks for it.
        await waitUntilSubmitted(catalog, 7)
        release()
        try await held.value
        let results = await outcomes.value
        guard case .failure(.storage(let error)) = results[3] else {
            Issue.record("the upload whose blob failed to sync was answered \(String(describing: results[3]))")
            return
        }
        #expect(error.code == .io)
        let recorded = try results.filter { $0.key != 3 }.map { entry throws(IngestError) in try entry.value.get() }
        #expect(recorded.count == 7)
        #expect(catalog.uploadCommits.counts.submitted == 7)
        #expect(catalog.uploadCommits.counts.commits <= 2, "the seven shared the commit after the held one")
        #expect(try await catalog.referencedDigests() == Set(recorded.flatMap { $0.documents.map(\.sha256) }))
        #expect(try await !catalog.referencedDigests().contains(failing))
        #expect(try await !blobs.contains(failing))
        #expect(directory.files(under: "tmp").isEmpty)
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
