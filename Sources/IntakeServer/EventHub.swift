import Ingest
import Synchronization

/// One reader of the event log for every `GET /events` stream: while any stream is open, a single
/// task asks the database for the newest event id (`pollInterval`), and streams that have sent
/// everything wait for it to move instead of each polling the database. It also bounds how many
/// streams may be open, in all and per API key.
final class EventHub: Sendable {
    /// Why a stream was not opened.
    enum Refusal: Error {
        case tooManyStreams(limit: Int)
        case tooManyStreamsForKey(limit: Int)
    }

    private struct Waiter {
        let after: Int64
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var newest: Int64 = 0
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
        var streams = 0
        var streamsByKey: [String: Int] = [:]
        var poller: Task<Void, Never>?
    }

    private let database: any JobQueue
    private let pollInterval: Duration
    let maximumStreams: Int
    let maximumStreamsPerKey: Int
    private let state = Mutex(State())
    /// Streams open, and streams waiting for the log to move.
    var counts: (open: Int, waiting: Int) { state.withLock { ($0.streams, $0.waiters.count) } }

    init(database: any JobQueue, pollInterval: Duration, maximumStreams: Int, maximumStreamsPerKey: Int) {
        self.database = database
        self.pollInterval = pollInterval
        self.maximumStreams = maximumStreams
        self.maximumStreamsPerKey = maximumStreamsPerKey
    }

    /// Counts a stream for `key` (nil: anonymous), starting the reader with the first.
    func open(key: String?) throws(Refusal) {
        let key = key ?? ""
        try state.withLock { (state) throws(Refusal) in
            guard state.streams < maximumStreams else { throw .tooManyStreams(limit: maximumStreams) }
            guard state.streamsByKey[key, default: 0] < maximumStreamsPerKey else { throw .tooManyStreamsForKey(limit: maximumStreamsPerKey) }
            state.streams += 1
            state.streamsByKey[key, default: 0] += 1
            if state.poller == nil { state.poller = Task { await self.poll() } }
        }
    }

    /// Uncounts a stream; the reader stops with the last.
    func close(key: String?) {
        let key = key ?? ""
        let poller = state.withLock { state -> Task<Void, Never>? in
            state.streams -= 1
            state.streamsByKey[key, default: 1] -= 1
            if state.streamsByKey[key] == 0 { state.streamsByKey[key] = nil }
            guard state.streams == 0 else { return nil }
            defer { state.poller = nil }
            return state.poller
        }
        poller?.cancel()
    }

    /// Returns once an event newer than `id` exists, or after `timeout`, or when cancelled.
    func wait(after id: Int64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForNewer(than: id) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForNewer(than id: Int64) async {
        let waiter = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.newest > id || Task.isCancelled { return true }
                    state.waiters[waiter] = Waiter(after: id, continuation: continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: waiter) }?.continuation.resume()
        }
    }

    private func poll() async {
        while !Task.isCancelled {
            if let newest = try? await database.newestEventID() {
                let woken = state.withLock { state -> [Waiter] in
                    state.newest = max(state.newest, newest)
                    let due = state.waiters.filter { $0.value.after < state.newest }
                    for key in due.keys { state.waiters.removeValue(forKey: key) }
                    return Array(due.values)
                }
                for waiter in woken { waiter.continuation.resume() }
            }
            try? await Task.sleep(for: pollInterval)
        }
    }
}
