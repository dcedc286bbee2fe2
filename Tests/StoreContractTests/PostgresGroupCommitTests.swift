import Foundation
import Ingest
@testable import IngestPostgres
import IntakeTesting
import PostgresNIO
import Testing

/// Uploads that finish together share one PostgreSQL transaction: one commit, one hold of the
/// event counter. Each is answered only after that commit, and one that fails is rolled back alone.
@Suite(.enabled(if: ContractBackend.postgresURL != nil, "needs INTAKE_TEST_DATABASE_URL (.ci/run starts a server)"))
struct PostgresGroupCommitTests {
    private func upload(_ name: String, field: String = "value") -> NewUpload {
        NewUpload(knowledgeBase: "kb", fields: [UploadField(name: "note", value: field)], documents: [document(name)])
    }

    /// Records `upload` with a blob check that waits until `gate` opens, once `started` has been told.
    private func heldUpload(
        _ store: PostgresStore, _ name: String, started: AsyncStream<Void>.Continuation, gate: AsyncStream<Void>
    ) -> Task<UploadReceipt, any Error> {
        Task {
            try await store.record(upload(name), completing: nil) { _ in
                started.yield()
                for await _ in gate { break }
                return true
            }
        }
    }

    @Test func uploadsThatFinishTogetherShareATransactionAndOneThatFailsIsRolledBackAlone() async throws {
        try await ContractBackend.postgres.withStore { (fixture) async throws in
            let store = try #require(fixture.store as? PostgresStore)
            let seen = try await store.newestEventID()
            // Two uploads hold both batches open (their blob checks wait), one after the other, so
            // that each is in a batch of its own and the uploads after them queue.
            let (started, startedContinuation) = AsyncStream<Void>.makeStream()
            var startedEvents = started.makeAsyncIterator()
            var holders: [Task<UploadReceipt, any Error>] = []
            var gates: [AsyncStream<Void>.Continuation] = []
            for index in 0..<2 {
                let (gate, gateContinuation) = AsyncStream<Void>.makeStream()
                holders.append(heldUpload(store, "held-\(index)", started: startedContinuation, gate: gate))
                gates.append(gateContinuation)
                _ = await startedEvents.next()
            }
            // Sixteen more arrive meanwhile: number 3's blob was removed (garbage collection won the
            // race) and number 5 carries a value PostgreSQL refuses (a NUL in text).
            let queued = Task {
                await withTaskGroup(of: (Int, Result<UploadReceipt, any Error>).self) { group in
                    for index in 0..<16 {
                        group.addTask {
                            do {
                                let receipt = try await store.record(
                                    upload("queued-\(index)", field: index == 5 ? "a\u{0}b" : "value"), completing: nil,
                                    blobIsPresent: { _ in index != 3 })
                                return (index, .success(receipt))
                            } catch {
                                return (index, .failure(error))
                            }
                        }
                    }
                    return await group.reduce(into: [Int: Result<UploadReceipt, any Error>]()) { $0[$1.0] = $1.1 }
                }
            }
            while store.uploadBatches.counts.submitted < 18 { await Task.yield() }
            #expect(store.uploadBatches.counts.commits == 0, "nothing is answered while both batches are open")
            #expect(try await store.statusCounts()[.queued] == nil, "nothing is visible before a commit")
            for gate in gates { gate.yield() }
            var answered = try await holders[0].value.documents.map(\.id) + holders[1].value.documents.map(\.id)
            let results = await queued.value
            #expect(store.uploadBatches.counts.commits == 3, "the sixteen queued uploads shared one transaction")
            for (index, result) in results.sorted(by: { $0.key < $1.key }) {
                switch index {
                case 3: #expect(throws: CatalogError.blobRemoved(sha256: String(repeating: "a", count: 64))) { try result.get() }
                case 5: #expect(throws: PSQLError.self) { try result.get() }
                default: answered += try result.get().documents.map(\.id)
                }
            }
            // Exactly what was answered is recorded: queued, with one event each, and a job each.
            #expect(answered.count == 16)
            #expect(try await store.statusCounts()[.queued] == 16)
            let events = try await store.events(after: seen, limit: 100)
            #expect(Set(events.map(\.documentID)) == Set(answered))
            #expect(events.count == 16)
            for id in answered { #expect(try await store.job(documentID: id)?.state == .queued) }
            let uploads = try await store.withConnection { connection in
                try await connection.row("SELECT count(*) AS n FROM uploads", logger: store.logger)?.get("n", as: Int.self)
            }
            #expect(uploads == 16, "the failed uploads left no row; their neighbours all committed")
        }
    }
}
