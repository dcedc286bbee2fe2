import Logging
import PostgresNIO
import Synchronization

/// Idle workers' wake-up calls: one connection listens on `intake_jobs`, which every transaction
/// that makes a job runnable notifies (on commit); each notification wakes every waiting worker
/// of this process. A notification is a hint: a lost one (the listening connection dropped)
/// delays a job by at most the workers' poll interval, never loses it.
final class JobWakeups: Sendable {
    static let channel = "intake_jobs"

    private struct State {
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        var listener: Task<Void, Never>?
        var stopped = false
        var listening = false
    }

    private let state = Mutex(State())

    /// Starts the listening connection; it reconnects after a second when it is lost.
    func start(client: PostgresClient, logger: Logger) {
        let task = Task {
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: Self.channel) { notifications in
                            self.state.withLock { $0.listening = true }
                            // Jobs may have been queued while nobody listened.
                            self.wakeAll()
                            for try await _ in notifications { self.wakeAll() }
                        }
                    }
                } catch {
                    state.withLock { $0.listening = false }
                    if Task.isCancelled { break }
                    logger.debug("the job notification listener reconnects", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        state.withLock { $0.listener = task }
    }

    func stop() {
        let (listener, waiters) = state.withLock { state in
            state.stopped = true
            defer { state.waiters = [:] }
            return (state.listener, Array(state.waiters.values))
        }
        listener?.cancel()
        for waiter in waiters { waiter.resume() }
    }

    /// Whether the listening connection is up, and how many workers wait (for tests).
    var status: (listening: Bool, waiting: Int) { state.withLock { ($0.listening, $0.waiters.count) } }

    /// Wakes every waiting worker.
    func wakeAll() {
        let waiters = state.withLock { state in
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns at the next notification, or when the task is cancelled.
    func next() async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.stopped || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
