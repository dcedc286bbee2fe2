/// The store cannot be reached for now (its server is down or restarting, or has no connection
/// to spare): nothing was recorded, and the same request can be retried later. The server
/// answers 503 with `Retry-After`.
public struct StoreUnavailable: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
