import Foundation
import Hummingbird
import HummingbirdTesting
import Ingest
@testable import IntakeServer
import Logging
import Synchronization
import Testing

/// What the server does while its store is away: 503 with Retry-After, and no key left stuck.
@Suite struct StoreOutageTests {
    @Test func aStoreThatCannotBeReachedIs503WithRetryAfterOnEveryRoute() async throws {
        let router = Router()
        router.add(middleware: StoreErrorMiddleware())
        router.get("documents") { _, _ -> String in throw StoreUnavailable(reason: "connection refused") }
        router.get("full") { _, _ -> String in throw CatalogError.storageFull }
        router.get("other") { _, _ -> String in throw CancellationError() }
        try await Application(router: router).test(.router) { client in
            let unavailable = try await client.execute(uri: "/documents", method: .get)
            #expect(unavailable.status == .serviceUnavailable)
            #expect(unavailable.headers[.retryAfter] == "5")
            #expect(String(buffer: unavailable.body).contains("\"store_unavailable\""))
            #expect(try await client.execute(uri: "/full", method: .get).status.code == 507)
            #expect(try await client.execute(uri: "/other", method: .get).status == .internalServerError)
        }
    }

    @Test func aKeyWhoseReleaseTheStoreRefusedIsReleasedOnceItIsBack() async throws {
        let store = FlakyKeyStore(failures: 2)
        let releases = IdempotencyReleases(store: store, logger: Logger(label: "test"))
        await releases.release(knowledgeBase: "kb", key: "k")
        #expect(releases.waiting == 1)
        await releases.retry()  // still away
        #expect(releases.waiting == 1)
        await releases.retry()  // back
        #expect(releases.waiting == 0)
        #expect(store.released == ["kb/k"])
    }
}

/// An idempotency store that is away for its first `failures` releases.
final class FlakyKeyStore: IdempotencyStore {
    private let state: Mutex<(failuresLeft: Int, released: [String])>
    var released: [String] { state.withLock { $0.released } }

    init(failures: Int) { state = Mutex((failures, [])) }

    func claimIdempotency(knowledgeBase: String, key: String, owner: String) async throws -> IdempotencyClaim { .acquired }
    func releaseAbandonedIdempotencyClaims(owner: String) async throws -> Int { 0 }
    func releaseIdempotency(knowledgeBase: String, key: String) async throws {
        try state.withLock { state in
            if state.failuresLeft > 0 {
                state.failuresLeft -= 1
                throw StoreUnavailable(reason: "away")
            }
            state.released.append("\(knowledgeBase)/\(key)")
        }
    }
}
