import Synchronization

/// Turns many concurrent commits into few: requests that arrive while a batch is being committed
/// wait, and go in the next batch together, so a store pays one transaction and one fsync of its
/// log for all of them. Each caller is answered only once its batch's commit has returned, with
/// its own result: the store's `commit` function rolls back a request that fails alone
/// (a savepoint per request) and answers the others.
///
/// `concurrentBatches` batches may be in flight at once (one for SQLite, whose writer is single;
/// two for a server database, so that one batch's statements overlap another's commit).
package final class CommitBatcher<Request: Sendable, Value: Sendable>: Sendable {
    /// Commits a batch; returns one result per request, in the batch's order.
    package typealias Commit = @Sendable ([Request]) async -> [Result<Value, any Error>]

    private struct Pending: Sendable {
        let request: Request
        let continuation: CheckedContinuation<Value, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var batchesInFlight = 0
        var commits = 0
        var submitted = 0
    }

    private let state = Mutex(State())
    private let commit: Commit
    /// The most requests in one batch, so that one transaction stays short.
    package let maximumBatch: Int
    /// The most batches committing at once.
    package let concurrentBatches: Int

    package init(maximumBatch: Int = 128, concurrentBatches: Int = 1, commit: @escaping Commit) {
        precondition(maximumBatch > 0 && concurrentBatches > 0, "a batcher commits at least one request at a time")
        self.maximumBatch = maximumBatch
        self.concurrentBatches = concurrentBatches
        self.commit = commit
    }

    /// Adds `request` to the next batch; returns its value once that batch has committed, or
    /// throws its own error or the batch's.
    package func submit(_ request: Request) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let startsCommitting = state.withLock { state -> Bool in
                state.pending.append(Pending(request: request, continuation: continuation))
                state.submitted += 1
                guard state.batchesInFlight < concurrentBatches else { return false }
                state.batchesInFlight += 1
                return true
            }
            if startsCommitting { Task { await self.commitWhilePending() } }
        }
    }

    /// Batches committed so far, and requests submitted (for tests of the batching).
    package var counts: (commits: Int, submitted: Int) { state.withLock { ($0.commits, $0.submitted) } }

    private func commitWhilePending() async {
        while true {
            let batch = state.withLock { state -> [Pending] in
                let taken = Array(state.pending.prefix(maximumBatch))
                state.pending.removeFirst(taken.count)
                if taken.isEmpty { state.batchesInFlight -= 1 }
                return taken
            }
            if batch.isEmpty { return }
            let results = await commit(batch.map(\.request))
            precondition(results.count == batch.count, "a batch's commit answers every request in it")
            state.withLock { $0.commits += 1 }
            for (item, result) in zip(batch, results) { item.continuation.resume(with: result) }
        }
    }
}
