import Ingest
import Logging
import ServiceLifecycle
import Synchronization

/// Releases the `Idempotency-Key`s of requests that failed, so that their retries can run. A
/// release that fails (the database was away when the request failed) is kept and tried again
/// every ``interval`` until it works: a key is never left in flight, answering 409 to every
/// retry, because the store was down for a moment.
final class IdempotencyReleases: Service, Sendable {
    struct Key: Hashable, Sendable {
        var knowledgeBase: String
        var key: String
    }

    let store: any IdempotencyStore
    let interval: Duration
    let logger: Logger
    private let pending = Mutex<Set<Key>>([])

    init(store: any IdempotencyStore, interval: Duration = .seconds(5), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    /// Keys waiting for the store to come back.
    var waiting: Int { pending.withLock { $0.count } }

    /// Releases `key`, or keeps it for a later try.
    func release(knowledgeBase: String, key: String) async {
        do {
            try await store.releaseIdempotency(knowledgeBase: knowledgeBase, key: key)
        } catch {
            pending.withLock { _ = $0.insert(Key(knowledgeBase: knowledgeBase, key: key)) }
            logger.warning("an Idempotency-Key is released again later", metadata: ["error": "\(error)"])
        }
    }

    /// Tries every kept key again; those released are forgotten.
    func retry() async {
        for key in pending.withLock({ Array($0) }) {
            guard (try? await store.releaseIdempotency(knowledgeBase: key.knowledgeBase, key: key.key)) != nil else { continue }
            pending.withLock { _ = $0.remove(key) }
        }
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            await retry()
        }
    }
}
