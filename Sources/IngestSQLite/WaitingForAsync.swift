import Dispatch
import Synchronization

/// Runs async work from SQLite's writer thread (a dispatch queue of GRDB's, never one of the
/// cooperative pool's threads), which waits for it: a transaction that must hold SQLite's write
/// lock across a blob store's answer (directory stores answer at once; an object store within
/// its request timeout).
enum WaitingForAsync {
    static func result<Value: Sendable>(of work: @escaping @Sendable () async throws -> Value) throws -> Value {
        let outcome = Mutex<Result<Value, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<Value, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }
}
