import Foundation
import Ingest
import IngestSQLite
public import Prometheus

/// The service's Prometheus metrics, in its own registry (a library never bootstraps the global
/// metrics system; `intake serve` bootstraps swift-metrics with this registry, so Hummingbird's
/// and any other library's metrics land in the same `/metrics`).
public struct IntakeMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(120),
    ]

    /// One answered request.
    func request(method: String, status: Int, duration: Duration) {
        registry.makeCounter(name: "intake_requests_total", labels: [("method", method), ("status", String(status))]).increment()
        registry.makeDurationHistogram(name: "intake_request_duration_seconds", labels: [("method", method)], buckets: Self.durationBuckets)
            .record(duration)
    }

    /// One upload recorded.
    func uploadCreated(bytes: Int, documents: Int, duration: Duration) {
        registry.makeCounter(name: "intake_uploads_total", labels: [("outcome", "created")]).increment()
        registry.makeCounter(name: "intake_upload_bytes_total").increment(by: Int64(bytes))
        registry.makeCounter(name: "intake_documents_total").increment(by: Int64(documents))
        registry.makeDurationHistogram(name: "intake_ingest_duration_seconds", buckets: Self.durationBuckets).record(duration)
    }

    /// One upload refused, by error code.
    func uploadFailed(code: String) {
        registry.makeCounter(name: "intake_uploads_total", labels: [("outcome", "refused")]).increment()
        registry.makeCounter(name: "intake_errors_total", labels: [("code", code)]).increment()
    }

    /// The registry's text, after the queue depth by state is read from the catalog.
    func exposition(database: SQLiteStore) async throws -> [UInt8] {
        let depths = try await database.statusCounts()
        for status in DocumentStatus.allCases {
            registry.makeGauge(name: "intake_queue_depth", labels: [("state", status.rawValue)]).set(Int64(depths[status] ?? 0))
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
