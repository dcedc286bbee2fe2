import Foundation
import Ingest
import IntakeTesting
import Synchronization
import Testing

/// The job queue of every store: claims, leases, heartbeats, retries, `dead`, the reaper.
@Suite struct QueueContractTests {
    @Test(arguments: ContractBackend.available)
    func claimTakesTheOldestRunnableJobAndCompleteFinishesIt(_ backend: ContractBackend) async throws {
        let clock = TestClock()
        try await backend.withStore(clock: clock) { (fixture) async throws in
            let store = fixture.store
            let first = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("1")]))
            clock.advance(by: .seconds(1))
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
            #expect(try await store.events(after: 0, limit: 100).map(\.state) == [.queued, .queued, .processing, .processed, .processing])
        }
    }

    @Test(arguments: ContractBackend.available)
    func workersClaimingAtOnceNeverTakeTheSameJob(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            var queued: Set<String> = []
            for index in 0..<40 {
                queued.insert(try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("\(index)")])).documents[0].id)
            }
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var mine: [String] = []
                        while let job = try await store.claim(worker: "w\(worker)", lease: .seconds(60)) {
                            mine.append(job.documentID)
                            try await store.complete(job)
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claimed.count == 40)
            #expect(Set(claimed) == queued)
            #expect(try await store.statusCounts() == [.processed: 40])
            // One processed event each.
            let processed = try await store.events(after: 0, limit: 1000).filter { $0.state == .processed }
            #expect(processed.count == 40 && Set(processed.map(\.documentID)) == queued)
        }
    }

    @Test(arguments: ContractBackend.available)
    func failedJobsBackOffExponentiallyThenDie(_ backend: ContractBackend) async throws {
        let clock = TestClock()
        let retry = RetryPolicy(maximumAttempts: 3, baseDelay: .seconds(10), maximumDelay: .seconds(3600))
        try await backend.withStore(clock: clock, retry: retry) { (fixture) async throws in
            let store = fixture.store
            let id = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("x")])).documents[0].id
            var job = try #require(try await store.claim(worker: "w", lease: .seconds(30)))
            #expect(try await store.fail(job, error: "boom 1") == .failed)
            // With jitter 0 the delay is half the exponential step: 5 s after attempt 1, 10 s after 2.
            #expect(try await store.claim(worker: "w", lease: .seconds(30)) == nil)
            clock.advance(by: .seconds(5))
            job = try #require(try await store.claim(worker: "w", lease: .seconds(30)))
            #expect(job.attempts == 2)
            #expect(try await store.fail(job, error: "boom 2") == .failed)
            clock.advance(by: .seconds(9))
            #expect(try await store.claim(worker: "w", lease: .seconds(30)) == nil)
            clock.advance(by: .seconds(1))
            job = try #require(try await store.claim(worker: "w", lease: .seconds(30)))
            #expect(try await store.fail(job, error: "boom 3") == .dead)
            clock.advance(by: .seconds(100_000))
            #expect(try await store.claim(worker: "w", lease: .seconds(30)) == nil)
            let record = try await store.document(id: id)
            #expect(record?.status == .dead)
            #expect(record?.error == "boom 3")
            #expect(try await store.job(documentID: id)?.attempts == 3)
            #expect(try await store.job(documentID: id)?.lastError == "boom 3")
        }
    }

    @Test(arguments: ContractBackend.available)
    func aDocumentThatExceedsABoundIsDeadAtOnce(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let id = try await fixture.store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("x")])).documents[0].id
            let job = try #require(try await fixture.store.claim(worker: "w", lease: .seconds(30)))
            #expect(try await fixture.store.fail(job, error: "too big", permanently: true) == .dead)
            #expect(try await fixture.store.document(id: id)?.status == .dead)
        }
    }

    @Test(arguments: ContractBackend.available)
    func expiredLeasesAreReapedSoNothingStaysProcessing(_ backend: ContractBackend) async throws {
        let clock = TestClock()
        try await backend.withStore(clock: clock, retry: RetryPolicy(maximumAttempts: 2)) { (fixture) async throws in
            let store = fixture.store
            let id = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("x")])).documents[0].id
            var job = try #require(try await store.claim(worker: "dies", lease: .seconds(30)))
            clock.advance(by: .seconds(20))
            job = try await store.heartbeat(job, lease: .seconds(30))
            clock.advance(by: .seconds(29))
            #expect(try await store.reapExpiredLeases() == 0)
            clock.advance(by: .seconds(2))
            #expect(try await store.reapExpiredLeases() == 1)
            #expect(try await store.document(id: id)?.status == .queued)
            await #expect(throws: QueueError.leaseLost(documentID: id)) { try await store.complete(job) }
            await #expect(throws: QueueError.leaseLost(documentID: id)) { _ = try await store.heartbeat(job, lease: .seconds(30)) }
            await #expect(throws: QueueError.leaseLost(documentID: id)) { _ = try await store.fail(job, error: "late") }
            // The second attempt dies too: with no attempts left the job is dead, not queued again.
            _ = try #require(try await store.claim(worker: "dies again", lease: .seconds(30)))
            clock.advance(by: .seconds(31))
            #expect(try await store.reapExpiredLeases() == 1)
            #expect(try await store.document(id: id)?.status == .dead)
            #expect(try await store.claim(worker: "w", lease: .seconds(30)) == nil)
        }
    }

    @Test(arguments: ContractBackend.available)
    func eventIdsOnlyGrowAndResumeAfterTheLastSeen(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            _ = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("1"), document("2"), document("3")]))
            let firstTwo = try await store.events(after: 0, limit: 2)
            let rest = try await store.events(after: firstTwo.last!.id, limit: 10)
            #expect(firstTwo.count == 2)
            #expect(rest.count == 1)
            #expect(rest[0].id > firstTwo[1].id)
            #expect(try await store.newestEventID() == rest[0].id)
        }
    }

    @Test(arguments: ContractBackend.available)
    func enqueueRequeuesAFinishedOrDeadDocumentButNotOneInProgress(_ backend: ContractBackend) async throws {
        try await backend.withStore(retry: RetryPolicy(maximumAttempts: 1)) { (fixture) async throws in
            let store = fixture.store
            let id = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("x")])).documents[0].id
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
}
