import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Ingest
import IngestSQLite
import IntakeClient
import IntakeServer

/// `intake serve`'s service on a real socket (port 0) over a fresh data directory, with a
/// ``RemoteTarget`` pointed at it.
struct LiveServer {
    let directory: String
    let service: IntakeService

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-client-\(UUID().uuidString)").path
        var configuration = ServerConfiguration()
        configuration.dataDirectory = directory
        configuration.port = 0
        configuration.snifferHandles = 2
        service = try IntakeService(configuration: configuration) { try SQLiteStore(path: $0 + "/intake.sqlite") }
    }

    /// Serves for `body`, which gets the server's URL; removes the data directory afterwards.
    func run<Value: Sendable>(_ body: @Sendable (URL) async throws -> Value) async throws -> Value {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let app = Application(router: service.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            try await body(URL(string: "http://127.0.0.1:\(client.port!)")!)
        }
    }

    /// Runs `body` with a target on `url` and shuts its HTTP client down after.
    static func withTarget<Value: Sendable>(
        _ url: URL, apiKey: String? = nil, knowledgeBase: String? = nil, connectTimeout: Duration = .seconds(5), _ body: (RemoteTarget) async throws -> Value
    ) async throws -> Value {
        let client = RemoteTarget.makeClient(connections: 4, connectTimeout: connectTimeout)
        do {
            let value = try await body(RemoteTarget(server: url, apiKey: apiKey, knowledgeBase: knowledgeBase, client: client))
            try await client.shutdown()
            return value
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    func documentCount(knowledgeBase: String? = nil) async throws -> Int {
        try await service.database.documents(DocumentQuery(knowledgeBase: knowledgeBase, limit: 1000)).documents.count
    }
}

/// Collects a run's reports.
actor ReportLog {
    private(set) var reports: [FileReport] = []
    func add(_ event: BulkIngest.Event) {
        if case .finished(let report) = event { reports.append(report) }
    }
    func report(endingWith suffix: String) -> FileReport? {
        reports.first { $0.path.hasSuffix(suffix) }
    }
}
