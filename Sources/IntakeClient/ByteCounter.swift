import Synchronization

/// A count of bytes shared between the tasks that move them and the one that shows progress.
public final class ByteCounter: Sendable {
    private let count = Atomic<Int64>(0)

    public init() {}

    public func add(_ bytes: Int) {
        count.add(Int64(bytes), ordering: .relaxed)
    }

    public var value: Int64 { count.load(ordering: .relaxed) }
}
