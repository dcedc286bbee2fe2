import GRDB
import Synchronization

/// Uploads that finish together share one write transaction, and so one fsync of the WAL: while
/// a batch commits, the uploads that arrive wait, and go in the next batch together. Each upload
/// runs in a savepoint of its own, so one that fails (its blob removed meanwhile, a conflicting
/// idempotency key) is rolled back alone; each caller is answered only once the shared commit has
/// returned, so nothing answered is ever lost with the batch. This is how PostgreSQL turns many
/// concurrent commits into few fsyncs.
final class GroupCommit<Value: Sendable>: Sendable {
    typealias Work = @Sendable (Database) throws -> Value

    private struct Pending: Sendable {
        let work: Work
        let continuation: CheckedContinuation<Value, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var isCommitting = false
        var commits = 0
        var submitted = 0
    }

    private let writer: DatabasePool
    private let state = Mutex(State())
    /// The most uploads in one transaction, so that one batch's savepoints stay small.
    let maximumBatch: Int

    init(writer: DatabasePool, maximumBatch: Int = 128) {
        self.writer = writer
        self.maximumBatch = maximumBatch
    }

    /// Runs `work` in the next shared transaction; returns its value once that transaction has
    /// committed, or throws its own error (rolled back alone) or the commit's.
    func submit(_ work: @escaping Work) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let startsCommitting = state.withLock { state -> Bool in
                state.pending.append(Pending(work: work, continuation: continuation))
                state.submitted += 1
                guard !state.isCommitting else { return false }
                state.isCommitting = true
                return true
            }
            if startsCommitting { Task { await self.commitWhilePending() } }
        }
    }

    /// Transactions committed so far, and uploads submitted (for tests of the batching).
    var counts: (commits: Int, submitted: Int) { state.withLock { ($0.commits, $0.submitted) } }

    private func commitWhilePending() async {
        while true {
            let batch = state.withLock { state -> [Pending] in
                let taken = Array(state.pending.prefix(maximumBatch))
                state.pending.removeFirst(taken.count)
                if taken.isEmpty { state.isCommitting = false }
                return taken
            }
            if batch.isEmpty { return }
            let results: [Result<Value, any Error>]
            do {
                results = try await writer.write { db in
                    batch.map { item in
                        Result { () throws -> Value in
                            var value: Value?
                            try db.inSavepoint {
                                value = try item.work(db)
                                return .commit
                            }
                            return value!
                        }
                    }
                }
                state.withLock { $0.commits += 1 }
            } catch {
                results = batch.map { _ in .failure(error) }
            }
            for (item, result) in zip(batch, results) { item.continuation.resume(with: result) }
        }
    }
}
