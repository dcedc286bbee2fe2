import Foundation
import Ingest
import IntakeTesting
import Testing

/// API keys and tenancy, `Idempotency-Key`s and webhook cursors, on every backend.
@Suite struct AccessContractTests {
    @Test(arguments: ContractBackend.available)
    func keysAreStoredHashedBoundToOneKnowledgeBaseAndRevocable(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            #expect(try await store.requiresKeys() == false)
            let (legal, legalSecret) = try await store.createKey(knowledgeBase: KnowledgeBaseName("legal")!)
            let (_, salesSecret) = try await store.createKey(knowledgeBase: KnowledgeBaseName("sales")!)
            #expect(legalSecret.hasPrefix("intake_\(legal.id)_"))
            #expect(try await store.requiresKeys())
            #expect(try await store.knowledgeBase(forKey: legalSecret) == "legal")
            #expect(try await store.knowledgeBase(forKey: salesSecret) == "sales")
            #expect(try await store.knowledgeBase(forKey: legalSecret + "x") == nil)
            #expect(try await store.keys().map(\.knowledgeBase).sorted() == ["legal", "sales"])
            #expect(try await store.revokeKey(id: legal.id))
            #expect(try await store.revokeKey(id: legal.id) == false)
            #expect(try await store.knowledgeBase(forKey: legalSecret) == nil)
            #expect(try await store.keys().first { $0.id == legal.id }?.revokedAt != nil)
            // Revoked keys still count: the service stays closed to anonymous requests.
            #expect(try await store.requiresKeys())
        }
    }

    @Test(arguments: ContractBackend.available)
    func anIdempotencyKeyIsCompletedWithItsUploadInTheTransactionThatRecordsIt(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-a") == .acquired)
            let upload = NewUpload(knowledgeBase: "kb", fields: [UploadField(name: "title", value: "T")], documents: [document("a.pdf")])
            let receipt = try await store.record(upload, completing: IdempotencyCompletion(knowledgeBase: "kb", key: "k"))
            #expect(
                try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-b")
                    == .completed(fingerprint: FormFingerprint.of(upload), uploadID: receipt.id))
            // The same key in another knowledge base is another key.
            #expect(try await store.claimIdempotency(knowledgeBase: "other", key: "k", owner: "node-a") == .acquired)
        }
    }

    @Test(arguments: ContractBackend.available)
    func anUploadThatFailsLeavesItsKeyInFlightUntilReleased(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-a") == .acquired)
            await #expect(throws: CatalogError.self) {
                _ = try await store.record(
                    NewUpload(knowledgeBase: "kb", fields: [], documents: [document("a.pdf")]),
                    completing: IdempotencyCompletion(knowledgeBase: "kb", key: "k"), blobIsPresent: { _ in false })
            }
            #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-a") == .inFlight)
            try await store.releaseIdempotency(knowledgeBase: "kb", key: "k")
            #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-a") == .acquired)
        }
    }

    @Test(arguments: ContractBackend.available)
    func anAbandonedClaimIsReleasedOnlyByTheNodeThatMadeIt(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-a") == .acquired)
            #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-b") == .inFlight)
            // Node B starting up leaves node A's request in flight alone.
            #expect(try await store.releaseAbandonedIdempotencyClaims(owner: "node-b") == 0)
            #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-b") == .inFlight)
            // Node A restarting forgets what its killed process could not finish.
            #expect(try await store.releaseAbandonedIdempotencyClaims(owner: "node-a") == 1)
            #expect(try await store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "node-b") == .acquired)
        }
    }

    @Test(arguments: ContractBackend.available)
    func idempotencyKeysAreForgottenAfterADay(_ backend: ContractBackend) async throws {
        let clock = TestClock()
        try await backend.withStore(clock: clock) { (fixture) async throws in
            #expect(try await fixture.store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "n") == .acquired)
            clock.advance(by: IdempotencyKeys.lifetime - .seconds(1))
            #expect(try await fixture.store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "n") == .inFlight)
            clock.advance(by: .seconds(2))
            #expect(try await fixture.store.claimIdempotency(knowledgeBase: "kb", key: "k", owner: "n") == .acquired)
        }
    }

    @Test(arguments: ContractBackend.available)
    func aNewWebhookStartsAtTheNewestEventAndItsCursorNeverMovesBack(_ backend: ContractBackend) async throws {
        try await backend.withStore { (fixture) async throws in
            let store = fixture.store
            _ = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("1"), document("2")]))
            let newest = try await store.newestEventID()
            #expect(newest > 0)
            #expect(try await store.webhookCursor(url: "https://example.com/hook") == newest)
            _ = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("3")]))
            #expect(try await store.webhookCursor(url: "https://example.com/hook") == newest)
            try await store.advanceWebhookCursor(url: "https://example.com/hook", to: newest + 1)
            try await store.advanceWebhookCursor(url: "https://example.com/hook", to: newest)
            #expect(try await store.webhookCursor(url: "https://example.com/hook") == newest + 1)
        }
    }

    @Test(arguments: ContractBackend.available)
    func oneNodeAtATimeDeliversAWebhookAndAnotherTakesOverWhenItsLeaseLapses(_ backend: ContractBackend) async throws {
        let clock = TestClock()
        try await backend.withStore(clock: clock) { (fixture) async throws in
            let store = fixture.store
            let url = "https://example.com/hook"
            _ = try await store.record(NewUpload(knowledgeBase: "kb", fields: [], documents: [document("1")]))
            let newest = try await store.newestEventID()
            #expect(try await store.leaseWebhook(url: url, owner: "node-a", lease: .seconds(30)) == newest)
            #expect(try await store.leaseWebhook(url: url, owner: "node-b", lease: .seconds(30)) == nil)
            try await store.advanceWebhookCursor(url: url, to: newest + 5)
            clock.advance(by: .seconds(20))
            // Node A renews; node B still waits.
            #expect(try await store.leaseWebhook(url: url, owner: "node-a", lease: .seconds(30)) == newest + 5)
            clock.advance(by: .seconds(20))
            #expect(try await store.leaseWebhook(url: url, owner: "node-b", lease: .seconds(30)) == nil)
            // Node A stops renewing (it died): once its lease lapses, node B takes over where it was.
            clock.advance(by: .seconds(11))
            #expect(try await store.leaseWebhook(url: url, owner: "node-b", lease: .seconds(30)) == newest + 5)
            #expect(try await store.leaseWebhook(url: url, owner: "node-a", lease: .seconds(30)) == nil)
            // Another webhook is another lease.
            #expect(try await store.leaseWebhook(url: "https://example.com/other", owner: "node-a", lease: .seconds(30)) != nil)
        }
    }
}
