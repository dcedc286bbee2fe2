/// How often and how long to wait before trying a retryable failure again: exponential backoff
/// with equal jitter (half the delay fixed, half random), capped, or the server's `Retry-After`
/// when it is longer.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included.
    public var maximumAttempts: Int
    public var baseDelay: Duration
    public var maximumDelay: Duration

    public init(maximumAttempts: Int = 8, baseDelay: Duration = .milliseconds(250), maximumDelay: Duration = .seconds(30)) {
        self.maximumAttempts = maximumAttempts
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
    }

    /// The wait after failed attempt `attempt` (1 = the first).
    public func delay(afterAttempt attempt: Int, retryAfter: Double? = nil) -> Duration {
        let exponential = baseDelay * (1 << min(attempt - 1, 20))
        let capped = min(exponential, maximumDelay)
        let half = capped / 2
        let jitter = half * Double.random(in: 0...1)
        let backoff = half + jitter
        guard let retryAfter else { return backoff }
        return max(backoff, min(.milliseconds(Int64(retryAfter * 1000)), maximumDelay))
    }
}
