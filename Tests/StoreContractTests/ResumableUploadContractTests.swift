import Foundation
import Ingest
import IntakeTesting
import Testing

/// What every store must do with uploads sent in pieces: keep their offsets, let one append at a
/// time go ahead, and give up the uploads that were abandoned.
@Suite struct ResumableUploadContractTests {
    private func upload(_ id: String, length: Int64?, at clock: TestClock, expiresIn seconds: Double = 3600) -> ResumableUpload {
        let now = clock.dates.now
        return ResumableUpload(
            id: id, knowledgeBase: "kb", length: length, filename: "scans ünïcødé.pdf", declaredType: "application/pdf",
            fields: [UploadField(name: "title", value: "Scans"), UploadField(name: "title", value: "again"), UploadField(name: "note", value: "a\u{0}b")],
            createdAt: Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded()),
            expiresAt: Date(timeIntervalSince1970: (now.timeIntervalSince1970 + seconds).rounded()))
    }

    /// Upload "u1" of 100 bytes, with an append by `node` holding it for `seconds`; returns when
    /// the hold began, in seconds since 1970.
    private func uploadHeld(by node: String, for seconds: Double, in fixture: StoreFixture) async throws -> Double {
        try await fixture.store.createResumableUpload(upload("u1", length: 100, at: fixture.clock))
        let start = fixture.clock.dates.now.timeIntervalSince1970
        _ = try await fixture.store.beginResumableAppend(id: "u1", at: 0, node: node, leaseUntil: Date(timeIntervalSince1970: start + seconds))
        return start
    }

    @Test(arguments: ContractBackend.available)
    func anUploadIsKeptAsCreatedAndItsOffsetMovesOnlyThroughAnAppend(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            let created = upload("u1", length: 300, at: fixture.clock)
            try await store.createResumableUpload(created)
            #expect(try await store.resumableUpload(id: "u1") == created)
            #expect(try await store.resumableUpload(id: "nope") == nil)
            let later = Date(timeIntervalSince1970: created.expiresAt.timeIntervalSince1970 + 60)
            _ = try await store.beginResumableAppend(id: "u1", at: 0, node: "a", leaseUntil: later)
            let moved = try await store.finishResumableAppend(id: "u1", node: "a", offset: 100, length: nil, expiresAt: later)
            #expect(moved.offset == 100 && moved.length == 300 && moved.expiresAt == later && !moved.isComplete)
            _ = try await store.beginResumableAppend(id: "u1", at: 100, node: "a", leaseUntil: later)
            #expect(try await store.finishResumableAppend(id: "u1", node: "a", offset: 300, length: nil, expiresAt: later).isComplete)
            await #expect(throws: ResumableUploadNotFound(id: "nope")) {
                _ = try await store.beginResumableAppend(id: "nope", at: 0, node: "a", leaseUntil: later)
            }
        }
    }

    @Test(arguments: ContractBackend.available)
    func oneAppendAtATimeAndOnlyAtTheUploadsOffset(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            try await store.createResumableUpload(upload("u1", length: nil, at: fixture.clock))
            let lease = Date(timeIntervalSince1970: fixture.clock.dates.now.timeIntervalSince1970 + 60)
            await #expect(throws: ResumableUploadConflict(.offsetMismatch, offset: 0)) {
                _ = try await store.beginResumableAppend(id: "u1", at: 5, node: "a", leaseUntil: lease)
            }
            _ = try await store.beginResumableAppend(id: "u1", at: 0, node: "a", leaseUntil: lease)
            // A second append, from any node (this one too), waits for the first to end.
            for node in ["b", "a"] {
                await #expect(throws: ResumableUploadConflict(.appendInProgress, offset: 0)) {
                    _ = try await store.beginResumableAppend(id: "u1", at: 0, node: node, leaseUntil: lease)
                }
            }
            // A deferred length is set by the append that learns it.
            let done = try await store.finishResumableAppend(id: "u1", node: "a", offset: 40, length: 40, expiresAt: lease)
            #expect(done.length == 40 && done.isComplete)
        }
    }

    @Test(arguments: ContractBackend.available)
    func anAppendWhoseNodeDiedIsTakenOverAndItsLateEndChangesNothing(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            let start = try await uploadHeld(by: "a", for: 60, in: fixture)
            fixture.clock.advance(by: .seconds(61))
            _ = try await store.beginResumableAppend(id: "u1", at: 0, node: "b", leaseUntil: Date(timeIntervalSince1970: start + 200))
            await #expect(throws: ResumableUploadConflict(.appendInProgress, offset: 0)) {
                try await store.finishResumableAppend(id: "u1", node: "a", offset: 50, length: nil, expiresAt: Date(timeIntervalSince1970: start + 3600))
            }
            #expect(try await store.finishResumableAppend(id: "u1", node: "b", offset: 20, length: nil, expiresAt: Date(timeIntervalSince1970: start + 3600)).offset == 20)
        }
    }

    @Test(arguments: ContractBackend.available)
    func aRestartedNodeEndsTheAppendsItsKilledProcessHeldAndNoOthers(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            try await store.createResumableUpload(upload("mine", length: 100, at: fixture.clock))
            try await store.createResumableUpload(upload("theirs", length: 100, at: fixture.clock))
            let lease = Date(timeIntervalSince1970: fixture.clock.dates.now.timeIntervalSince1970 + 900)
            try await store.createResumableUpload(upload("similar", length: 100, at: fixture.clock))
            // Claims are the node's name and a token of the append.
            _ = try await store.beginResumableAppend(id: "mine", at: 0, node: "a 1f2e", leaseUntil: lease)
            _ = try await store.beginResumableAppend(id: "theirs", at: 0, node: "b 3c4d", leaseUntil: lease)
            _ = try await store.beginResumableAppend(id: "similar", at: 0, node: "ab 5e6f", leaseUntil: lease)
            #expect(try await store.releaseResumableAppends(node: "a") == 1)
            _ = try await store.beginResumableAppend(id: "mine", at: 0, node: "a", leaseUntil: lease)
            await #expect(throws: ResumableUploadConflict(.appendInProgress, offset: 0)) {
                _ = try await store.beginResumableAppend(id: "theirs", at: 0, node: "a", leaseUntil: lease)
            }
        }
    }

    @Test(arguments: ContractBackend.available)
    func aRunningAppendRenewsItsHoldUntilItHasRunOutAndBeenTaken(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            let start = try await uploadHeld(by: "a 1", for: 60, in: fixture)
            fixture.clock.advance(by: .seconds(50))
            try await store.renewResumableAppend(id: "u1", node: "a 1", leaseUntil: Date(timeIntervalSince1970: start + 110))
            fixture.clock.advance(by: .seconds(30))
            // Renewed: 80 s after it began, the first lease would have run out; this one has not.
            await #expect(throws: ResumableUploadConflict(.appendInProgress, offset: 0)) {
                _ = try await store.beginResumableAppend(id: "u1", at: 0, node: "a 2", leaseUntil: Date(timeIntervalSince1970: start + 200))
            }
            fixture.clock.advance(by: .seconds(31))
            _ = try await store.beginResumableAppend(id: "u1", at: 0, node: "a 2", leaseUntil: Date(timeIntervalSince1970: start + 300))
            await #expect(throws: ResumableUploadConflict(.appendInProgress, offset: 0)) {
                try await store.renewResumableAppend(id: "u1", node: "a 1", leaseUntil: Date(timeIntervalSince1970: start + 400))
            }
            await #expect(throws: ResumableUploadNotFound(id: "nope")) {
                try await store.renewResumableAppend(id: "nope", node: "a 1", leaseUntil: Date(timeIntervalSince1970: start + 400))
            }
        }
    }

    @Test(arguments: ContractBackend.available)
    func expiredUploadsAreListedUnlessAnAppendHoldsThemAndRemovingForgetsThem(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            try await store.createResumableUpload(upload("old", length: 10, at: fixture.clock, expiresIn: 60))
            try await store.createResumableUpload(upload("held", length: 10, at: fixture.clock, expiresIn: 90))
            try await store.createResumableUpload(upload("fresh", length: 10, at: fixture.clock, expiresIn: 7200))
            let start = fixture.clock.dates.now.timeIntervalSince1970
            _ = try await store.beginResumableAppend(id: "held", at: 0, node: "a", leaseUntil: Date(timeIntervalSince1970: start + 600))
            fixture.clock.advance(by: .seconds(120))
            let now = fixture.clock.dates.now
            #expect(try await store.expiredResumableUploads(before: now, limit: 10).map(\.id) == ["old"])
            fixture.clock.advance(by: .seconds(600))
            #expect(try await store.expiredResumableUploads(before: fixture.clock.dates.now, limit: 10).map(\.id) == ["old", "held"])
            #expect(try await store.expiredResumableUploads(before: fixture.clock.dates.now, limit: 1).map(\.id) == ["old"])
            #expect(try await store.removeResumableUpload(id: "old"))
            #expect(try await !store.removeResumableUpload(id: "old"))
            #expect(try await store.resumableUpload(id: "old") == nil)
        }
    }

    @Test(arguments: ContractBackend.available)
    func creationsPastTheLimitsAreRefusedAndExpiredUploadsDoNotCount(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            let limits = ResumableUploadLimits(perKnowledgeBase: 2, total: 3)
            func make(_ id: String, in knowledgeBase: String, expiresIn seconds: Double = 3600) -> ResumableUpload {
                var made = upload(id, length: 10, at: fixture.clock, expiresIn: seconds)
                made.knowledgeBase = knowledgeBase
                return made
            }
            // An expired upload not yet swept takes no place.
            try await store.createResumableUpload(make("old", in: "kb1", expiresIn: -10), limits: limits)
            try await store.createResumableUpload(make("a", in: "kb1"), limits: limits)
            try await store.createResumableUpload(make("b", in: "kb1"), limits: limits)
            await #expect(throws: ResumableUploadLimitReached(limit: 2, isPerKnowledgeBase: true)) {
                try await store.createResumableUpload(make("c", in: "kb1"), limits: limits)
            }
            #expect(try await store.resumableUpload(id: "c") == nil)
            try await store.createResumableUpload(make("d", in: "kb2"), limits: limits)
            await #expect(throws: ResumableUploadLimitReached(limit: 3, isPerKnowledgeBase: false)) {
                try await store.createResumableUpload(make("e", in: "kb3"), limits: limits)
            }
            // One ends: there is room again.
            try await store.removeResumableUpload(id: "a")
            try await store.createResumableUpload(make("c", in: "kb1"), limits: limits)
        }
    }

    @Test(arguments: ContractBackend.available)
    func aCheckpointRecordsTheOffsetUnderTheClaimAndNeverMovesItBack(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            let start = try await uploadHeld(by: "a", for: 60, in: fixture)
            let lease = Date(timeIntervalSince1970: start + 120)
            try await store.checkpointResumableAppend(id: "u1", node: "a", offset: 40, leaseUntil: lease)
            #expect(try await store.resumableUpload(id: "u1")?.offset == 40)
            // Still held: another append is refused, at the checkpoint's offset.
            await #expect(throws: ResumableUploadConflict(.appendInProgress, offset: 40)) {
                _ = try await store.beginResumableAppend(id: "u1", at: 40, node: "b", leaseUntil: lease)
            }
            // An older checkpoint changes nothing; one by another node is refused.
            try await store.checkpointResumableAppend(id: "u1", node: "a", offset: 10, leaseUntil: lease)
            #expect(try await store.resumableUpload(id: "u1")?.offset == 40)
            await #expect(throws: ResumableUploadConflict(.appendInProgress, offset: 40)) {
                try await store.checkpointResumableAppend(id: "u1", node: "b", offset: 90, leaseUntil: lease)
            }
            let finished = try await store.finishResumableAppend(id: "u1", node: "a", offset: 70, length: nil, expiresAt: lease)
            #expect(finished.offset == 70)
        }
    }
}
