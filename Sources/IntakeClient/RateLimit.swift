/// A budget of bytes per second that request bodies share (`intake ingest --limit-rate`): each
/// chunk waits for its turn, so that all uploads together send no faster than the budget.
public actor RateLimit {
    public let bytesPerSecond: Int64
    private let clock = ContinuousClock()
    /// When the bytes taken so far will have been sent at the budget's pace.
    private var paidUntil: ContinuousClock.Instant

    public init(bytesPerSecond: Int64) {
        self.bytesPerSecond = max(bytesPerSecond, 1)
        paidUntil = clock.now
    }

    /// Waits until `count` more bytes may go.
    public func take(_ count: Int) async throws {
        let now = clock.now
        let start = max(paidUntil, now)
        paidUntil = start + .seconds(Double(count) / Double(bytesPerSecond))
        if start > now { try await clock.sleep(until: start) }
    }
}
