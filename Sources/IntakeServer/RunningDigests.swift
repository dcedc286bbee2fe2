import Crypto
import Synchronization

/// The running SHA-256 of uploads appended to on this node, each at the offset it covers: the
/// next append at that offset goes on from it, and the last one hands the finished digest to
/// completion. An upload whose appends come to another node, or to this one after a restart,
/// has none here and is hashed from its file at completion. At most ``capacity`` are kept (a
/// hasher is about a hundred bytes); the oldest goes first.
final class RunningDigests: Sendable {
    static let capacity = 4096

    private struct Entry {
        var offset: Int64
        var hasher: SHA256
        var order: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var counter: UInt64 = 0
    }

    private let state = Mutex(State())

    /// The SHA-256 of `id`'s first `offset` bytes, taken out (an append owns it until it puts it
    /// back with ``keep(_:at:_:)``); a new one at offset 0; nil when this node does not have it.
    func take(_ id: String, at offset: Int64) -> SHA256? {
        state.withLock { state in
            let entry = state.entries.removeValue(forKey: id)
            if offset == 0 { return SHA256() }
            guard let entry, entry.offset == offset else { return nil }
            return entry.hasher
        }
    }

    /// Keeps `hasher` as the SHA-256 of `id`'s first `offset` bytes.
    func keep(_ id: String, at offset: Int64, _ hasher: SHA256) {
        state.withLock { state in
            state.counter += 1
            state.entries[id] = Entry(offset: offset, hasher: hasher, order: state.counter)
            if state.entries.count > Self.capacity, let oldest = state.entries.min(by: { $0.value.order < $1.value.order })?.key {
                state.entries.removeValue(forKey: oldest)
            }
        }
    }

    func forget(_ id: String) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }
}
