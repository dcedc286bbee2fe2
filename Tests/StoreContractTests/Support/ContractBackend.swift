import Foundation
import Ingest
import IngestPostgres
import IngestSQLite
import IntakeTesting
import Logging
import PostgresNIO
import Testing

/// A backend the contract suite runs against: the embedded SQLite file always, and PostgreSQL when
/// `INTAKE_TEST_DATABASE_URL` names a server (`.ci/run` starts one and sets it).
enum ContractBackend: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static var postgresURL: String? { ProcessInfo.processInfo.environment["INTAKE_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    static var available: [ContractBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }
    var testDescription: String { rawValue }

    /// Runs `body` with a fresh, empty store of this backend (a new SQLite file, a new PostgreSQL
    /// database), then throws the store away.
    func withStore<T>(
        clock: TestClock = TestClock(), retry: RetryPolicy = RetryPolicy(), _ body: (StoreFixture) async throws -> T
    ) async throws -> T {
        let fixture = try await StoreFixture(self, clock: clock, retry: retry)
        do {
            let value = try await body(fixture)
            await fixture.remove()
            return value
        } catch {
            await fixture.remove()
            throw error
        }
    }
}

/// A store under test, with what it takes to open it again and to remove it.
final class StoreFixture: Sendable {
    let backend: ContractBackend
    let clock: TestClock
    let retry: RetryPolicy
    /// The SQLite file's directory, or the PostgreSQL database's URL.
    let location: String
    let store: any IntakeStore

    init(_ backend: ContractBackend, clock: TestClock, retry: RetryPolicy) async throws {
        self.backend = backend
        self.clock = clock
        self.retry = retry
        switch backend {
        case .sqlite:
            location = FileManager.default.temporaryDirectory.appendingPathComponent("intake-contract-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: location, withIntermediateDirectories: true)
        case .postgres:
            location = try await PostgresDatabases.create()
        }
        store = try await Self.open(backend, location: location, clock: clock, retry: retry)
    }

    /// The same database opened again, as a restarted node (or a second node) opens it.
    func reopen() async throws -> any IntakeStore {
        try await Self.open(backend, location: location, clock: clock, retry: retry)
    }

    private static func open(_ backend: ContractBackend, location: String, clock: TestClock, retry: RetryPolicy) async throws -> any IntakeStore {
        switch backend {
        case .sqlite:
            return try SQLiteStore(path: location + "/intake.sqlite", clock: clock.dates, retry: retry, jitter: { 0 })
        case .postgres:
            return try await PostgresStore.open(PostgresLocation(url: location), maximumConnections: 4, clock: clock.dates, retry: retry, jitter: { 0 })
        }
    }

    func remove() async {
        try? await store.close()
        switch backend {
        case .sqlite: try? FileManager.default.removeItem(atPath: location)
        case .postgres: try? await PostgresDatabases.drop(location)
        }
    }
}

/// Databases of their own for tests, on the server of `INTAKE_TEST_DATABASE_URL`.
enum PostgresDatabases {
    /// Creates an empty database; returns its URL.
    static func create() async throws -> String {
        let url = try #require(ContractBackend.postgresURL)
        let name = "intake_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        _ = try await withAdmin { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        }
        var components = try #require(URLComponents(string: url))
        components.path = "/" + name
        return try #require(components.string)
    }

    static func drop(_ url: String) async throws {
        let name = try PostgresLocation(url: url).database
        guard name.hasPrefix("intake_test_") else { return }
        _ = try await withAdmin { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
        }
    }

    /// Runs `body` with a client of the server's administration database.
    static func withAdmin<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let location = try PostgresLocation(url: try #require(ContractBackend.postgresURL))
        return try await withConnections(location, body)
    }

    /// Runs `body` with a client of `location`, then shuts it down.
    static func withConnections<T: Sendable>(_ location: PostgresLocation, _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: location.clientConfiguration, backgroundLogger: Logger(label: "contract-tests"))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}

/// A document of 10 bytes whose digest is 64 times `sha`.
func document(_ name: String, sha: Character = "a") -> NewDocument {
    NewDocument(
        fieldName: "doc", filename: name, filenameStar: nil, declaredType: "application/pdf",
        detectedType: "application/pdf", charset: "binary", size: 10, sha256: String(repeating: sha, count: 64))
}

/// CI runs the contract suite on PostgreSQL too: there, a missing server is a failure, not a skip.
@Suite struct ContractCoverageTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CI"] != nil, "only CI promises a PostgreSQL server"))
    func ciRunsTheContractSuiteOnPostgreSQL() {
        #expect(ContractBackend.available == [.sqlite, .postgres], "INTAKE_TEST_DATABASE_URL is not set: .ci/run starts a server and sets it")
    }
}
