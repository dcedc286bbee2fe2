import GRDB
import Ingest

/// Uploads that finish together share one write transaction, and so one fsync of the WAL (see
/// ``CommitBatcher``). Each upload runs in a savepoint of its own, so one that fails (its blob
/// removed meanwhile, a conflicting idempotency key) is rolled back alone; each caller is answered
/// only once the shared commit has returned, so nothing answered is ever lost with the batch.
final class GroupCommit<Value: Sendable>: Sendable {
    typealias Work = @Sendable (Database) throws -> Value

    private let batcher: CommitBatcher<Work, Value>

    init(writer: DatabasePool, maximumBatch: Int = 128) {
        batcher = CommitBatcher(maximumBatch: maximumBatch) { batch in
            do {
                return try await writer.write { db in
                    batch.map { work in
                        Result { () throws -> Value in
                            var value: Value?
                            try db.inSavepoint {
                                value = try work(db)
                                return .commit
                            }
                            return value!
                        }
                    }
                }
            } catch {
                return batch.map { _ in .failure(error) }
            }
        }
    }

    /// Runs `work` in the next shared transaction; returns its value once that transaction has
    /// committed, or throws its own error (rolled back alone) or the commit's.
    func submit(_ work: @escaping Work) async throws -> Value {
        try await batcher.submit(work)
    }

    /// Transactions committed so far, and uploads submitted (for tests of the batching).
    var counts: (commits: Int, submitted: Int) { batcher.counts }
}
