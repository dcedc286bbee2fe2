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
