public import Foundation

/// Where the catalog and queue read the time: the system clock, or a clock a test moves by hand.
public protocol IngestClock: Sendable {
    var now: Date { get }
}

/// The system's wall clock.
public struct SystemClock: IngestClock {
    public init() {}
    public var now: Date { Date() }
}

extension Duration {
    /// The duration in seconds, as the stores keep times (a `TimeInterval` since 1970).
    public var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
