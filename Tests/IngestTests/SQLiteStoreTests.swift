import Foundation
import Ingest
import IngestSQLite
import Synchronization
import Testing

/// A clock a test moves by hand.
final class ManualClock: IngestClock {
    private let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { time.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

@Suite struct SQLiteStoreTests {
    func document(_ name: String, sha: Character = "a") -> NewDocument {
        NewDocument(fieldName: "doc", filename: name, filenameStar: nil, declaredType: "application/pdf",
                    detectedType: "application/pdf", charset: "binary", size: 10, sha256: String(repeating: sha, count: 64))
    }

    func makeStore(_ directory: TemporaryDirectory, clock: ManualClock, retry: RetryPolicy = RetryPolicy()) throws -> SQLiteStore {
        try SQLiteStore(path: directory.path + "/intake.sqlite", clock: clock, retry: retry, jitter: { 0 })
    }

    @Test func anUploadWhoseBlobWasRemovedBeforeItsRecordIsNotRecorded() async throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory, clock: ManualClock())
        await #expect(throws: CatalogError.blobRemoved(sha256: String(repeating: "a", count: 64))) {
            try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("a.pdf")]), completing: nil, blobIsPresent: { _ in false })
        }
        #expect(try await store.documents(DocumentQuery()).documents.isEmpty)
    }

    @Test func blobsAreReleasedOnlyWhenNoDocumentHasThem() async throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory, clock: ManualClock())
        let receipt = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("a.pdf"), document("b.pdf", sha: "b")]))
        let removed = try await store.releaseBlobs([String(repeating: "a", count: 64), String(repeating: "c", count: 64)]) { _ in }
        #expect(removed == [String(repeating: "c", count: 64)])
        #expect(try await store.deleteDocument(id: receipt.documents[0].id) == String(repeating: "a", count: 64))
        #expect(try await store.releaseBlobs([String(repeating: "a", count: 64)]) { _ in } == [String(repeating: "a", count: 64)])
        #expect(try await store.deleteDocument(id: receipt.documents[0].id) == nil)
    }

    @Test func uploadDocumentsAndJobsAreRecordedTogether() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(directory, clock: ManualClock())
        let receipt = try await store.record(NewUpload(
            knowledgeBase: "manuals", fields: [UploadField(name: "title", value: "Q3"), UploadField(name: "tag", value: "a")],
            documents: [document("a.pdf"), document("b.pdf", sha: "b")]))
        #expect(receipt.knowledgeBase == "manuals")
        #expect(receipt.fields.map(\.name) == ["title", "tag"])
        #expect(receipt.documents.map(\.filename) == ["a.pdf", "b.pdf"])
        #expect(receipt.documents.allSatisfy { $0.status == .queued })
        #expect(try await store.upload(id: receipt.id) == receipt)
        #expect(try await store.document(id: receipt.documents[0].id) == receipt.documents[0])
        #expect(try await store.referencedDigests() == [String(repeating: "a", count: 64), String(repeating: "b", count: 64)])
        let events = try await store.events(after: 0, limit: 10)
        #expect(events.map(\.state) == [.queued, .queued])
        #expect(try await store.job(documentID: receipt.documents[1].id)?.state == .queued)
    }

    @Test func aDocumentThatBreaksTheSchemaRollsBackTheWholeUpload() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(directory, clock: ManualClock())
        var bad = document("bad.pdf")
        bad.sha256 = "not a digest"
        await #expect(throws: (any Error).self) {
            _ = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("ok.pdf"), bad]))
        }
        #expect(try await store.referencedDigests().isEmpty)
        #expect(try await store.events(after: 0, limit: 10).isEmpty)
    }

    @Test func anIdempotencyKeyIsCompletedWithItsUploadInTheTransactionThatRecordsIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(directory, clock: ManualClock())
        #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-a") == .acquired)
        let upload = NewUpload(knowledgeBase: "kb", fields: [UploadField(name: "title", value: "T")], documents: [document("a.pdf")])
        let receipt = try await store.record(upload, completing: IdempotencyCompletion(knowledgeBase: "kb", key: "k"))
        #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-b")
            == .completed(fingerprint: FormFingerprint.of(upload), uploadID: receipt.id))
        // The same key in another knowledge base is another key.
        #expect(try await store.claimIdempotency(knowledgeBase: "other", key: "k", owner: "node-a") == .acquired)
    }

    @Test func anAbandonedClaimIsReleasedOnlyByTheNodeThatMadeIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(directory, clock: ManualClock())
        #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-a") == .acquired)
        #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-b") == .inFlight)
        // Node B starting up leaves node A's request in flight alone.
        #expect(try await store.releaseAbandonedIdempotencyClaims(owner: "node-b") == 0)
        #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-b") == .inFlight)
        // Node A restarting forgets what its killed process could not finish.
        #expect(try await store.releaseAbandonedIdempotencyClaims(owner: "node-a") == 1)
        #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-b") == .acquired)
    }

    @Test func claimTakesTheOldestRunnableJobAndCompleteFinishesIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let store = try makeStore(directory, clock: clock)
        let first = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("1")]))
        clock.advance(1)
        _ = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("2")]))
        let job = try #require(try await store.claim(worker: "w1", lease: .seconds(30)))
        #expect(job.documentID == first.documents[0].id)
        #expect(job.attempts == 1)
        #expect(try await store.document(id: job.documentID)?.status == .processing)
        try await store.complete(job)
        #expect(try await store.document(id: job.documentID)?.status == .processed)
        let second = try #require(try await store.claim(worker: "w2", lease: .seconds(30)))
        #expect(second.documentID != job.documentID)
        #expect(try await store.claim(worker: "w3", lease: .seconds(30)) == nil)
        let states = try await store.events(after: 0, limit: 100).map(\.state)
        #expect(states == [.queued, .queued, .processing, .processed, .processing])
    }

    @Test func failedJobsBackOffExponentiallyThenDie() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let retry = RetryPolicy(maximumAttempts: 3, baseDelay: .seconds(10), maximumDelay: .seconds(3600))
        let store = try makeStore(directory, clock: clock, retry: retry)
        let receipt = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("x")]))
        let id = receipt.documents[0].id

        var job = try #require(try await store.claim(worker: "w", lease: .seconds(30)))
        #expect(try await store.fail(job, error: "boom 1") == .failed)
        // With jitter 0 the delay is half the exponential step: 5 s after attempt 1, 10 s after 2.
        #expect(try await store.claim(worker: "w", lease: .seconds(30)) == nil)
        clock.advance(5)
        job = try #require(try await store.claim(worker: "w", lease: .seconds(30)))
        #expect(job.attempts == 2)
        #expect(try await store.fail(job, error: "boom 2") == .failed)
        clock.advance(9)
        #expect(try await store.claim(worker: "w", lease: .seconds(30)) == nil)
        clock.advance(1)
        job = try #require(try await store.claim(worker: "w", lease: .seconds(30)))
        #expect(try await store.fail(job, error: "boom 3") == .dead)
        clock.advance(100_000)
        #expect(try await store.claim(worker: "w", lease: .seconds(30)) == nil)
        let document = try await store.document(id: id)
        #expect(document?.status == .dead)
        #expect(document?.error == "boom 3")
        #expect(try await store.job(documentID: id)?.attempts == 3)
    }

    @Test func expiredLeasesAreReapedSoNothingStaysProcessing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let store = try makeStore(directory, clock: clock, retry: RetryPolicy(maximumAttempts: 2))
        let receipt = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("x")]))
        let id = receipt.documents[0].id

        var job = try #require(try await store.claim(worker: "dies", lease: .seconds(30)))
        clock.advance(20)
        job = try await store.heartbeat(job, lease: .seconds(30))
        clock.advance(29)
        #expect(try await store.reapExpiredLeases() == 0)
        clock.advance(2)
        #expect(try await store.reapExpiredLeases() == 1)
        #expect(try await store.document(id: id)?.status == .queued)
        await #expect(throws: QueueError.leaseLost(documentID: id)) { try await store.complete(job) }
        await #expect(throws: QueueError.leaseLost(documentID: id)) { _ = try await store.heartbeat(job, lease: .seconds(30)) }

        // The second attempt dies too: with no attempts left the job is dead, not queued again.
        _ = try #require(try await store.claim(worker: "dies again", lease: .seconds(30)))
        clock.advance(31)
        #expect(try await store.reapExpiredLeases() == 1)
        #expect(try await store.document(id: id)?.status == .dead)
        #expect(try await store.claim(worker: "w", lease: .seconds(30)) == nil)
    }

    @Test func eventIdsOnlyGrowAndResumeAfterTheLastSeen() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try makeStore(directory, clock: ManualClock())
        _ = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("1"), document("2"), document("3")]))
        let firstTwo = try await store.events(after: 0, limit: 2)
        let rest = try await store.events(after: firstTwo.last!.id, limit: 10)
        #expect(firstTwo.count == 2)
        #expect(rest.count == 1)
        #expect(rest[0].id > firstTwo[1].id)
    }

    @Test func reopeningTheDatabaseKeepsEverything() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let receipt = try await makeStore(directory, clock: ManualClock()).record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("1")]))
        let reopened = try makeStore(directory, clock: ManualClock())
        #expect(try await reopened.upload(id: receipt.id) == receipt)
    }

    @Test func enqueueRequeuesAFinishedOrDeadDocumentButNotOneInProgress() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let store = try makeStore(directory, clock: clock, retry: RetryPolicy(maximumAttempts: 1))
        let receipt = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("x")]))
        let id = receipt.documents[0].id
        let job = try #require(try await store.claim(worker: "w", lease: .seconds(30)))
        #expect(try await store.enqueue(documentID: id) == false)
        #expect(try await store.fail(job, error: "boom") == .dead)
        #expect(try await store.enqueue(documentID: id) == true)
        let record = try await store.job(documentID: id)
        #expect(record?.state == .queued)
        #expect(record?.attempts == 0)
        #expect(try await store.document(id: id)?.status == .queued)
        #expect(try await store.claim(worker: "w", lease: .seconds(30))?.documentID == id)
        #expect(try await store.enqueue(documentID: "no such document") == false)
    }
}
