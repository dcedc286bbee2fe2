import ArgumentParser
import Ingest
import IngestSQLite
import IntakeRuntime

/// Which store a command records into: the embedded SQLite file in the data directory. Every
/// command that opens a store (`serve`, `worker`, `keys`, `search`, `ingest --data-dir`) takes
/// these options.
struct StoreOptions: ParsableArguments {
    /// Opens the store for the data directory `dataDirectory` (creating the directory if needed).
    func open(dataDirectory: String) async throws -> any IntakeStore {
        try IntakeNode.prepareDataDirectory(dataDirectory)
        return try SQLiteStore(path: dataDirectory + "/intake.sqlite")
    }
}
