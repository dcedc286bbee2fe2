import ArgumentParser
import Ingest
import IngestPostgres
import IngestSQLite
import IntakeRuntime
import Logging

/// Which store a command records into: the embedded SQLite file in the data directory, or a
/// PostgreSQL database shared by many nodes (`--database postgres://…`). Every command that opens
/// a store (`serve`, `worker`, `keys`, `search`, `ingest --data-dir`) takes these options.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .customLong("database"),
        help: ArgumentHelp(
            "A PostgreSQL database shared by several nodes, postgres://USER:PASSWORD@HOST:PORT/DATABASE (default: INTAKE_DATABASE_URL; without either, SQLite in the data directory). Blobs stay in --data-dir, which the nodes share.",
            valueName: "url"))
    var databaseOption: String?

    @Option(
        name: .customLong("database-connections"),
        help: ArgumentHelp("Connections to PostgreSQL this process may hold at once.", valueName: "count"))
    var databaseConnections = EnvironmentDefaults.int("INTAKE_DATABASE_CONNECTIONS", 16)

    /// Optional options cannot have a default, so the environment is read here.
    var databaseURL: String? { databaseOption ?? EnvironmentDefaults.optionalString("INTAKE_DATABASE_URL") }

    func validate() throws {
        guard databaseConnections >= 1 else { throw ValidationError("--database-connections must be at least 1.") }
        if let databaseURL {
            do {
                _ = try PostgresLocation(url: databaseURL)
            } catch {
                throw ValidationError("--database: \(error.description).")
            }
        }
    }

    /// What the store is, for logs (never a password).
    var summary: String {
        guard let databaseURL, let location = try? PostgresLocation(url: databaseURL) else { return "sqlite" }
        return location.description
    }

    /// Opens the store for the data directory `dataDirectory` (creating the directory if needed):
    /// PostgreSQL when a database URL is given, else `intake.sqlite` in the directory.
    func open(dataDirectory: String, logger: Logger = Logger(label: "intake.store")) async throws -> any IntakeStore {
        try IntakeNode.prepareDataDirectory(dataDirectory)
        guard let databaseURL else { return try SQLiteStore(path: dataDirectory + "/intake.sqlite") }
        let location = try PostgresLocation(url: databaseURL)
        do {
            return try await PostgresStore.open(location, maximumConnections: databaseConnections, logger: logger)
        } catch let error as StoreUnavailable {
            throw ValidationError("PostgreSQL at \(location) cannot be reached: \(error.reason).")
        }
    }
}
