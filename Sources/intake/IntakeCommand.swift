import ArgumentParser

/// The `intake` command line: `main` only wires subcommands.
@main
struct IntakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Document upload ingestion: a streaming multipart/form-data parser and its tools.",
        subcommands: [
            ServeCommand.self, IngestCommand.self, WorkerCommand.self, SearchCommand.self, InspectCommand.self, KeysCommand.self,
            ExtractCommand.self, ReprocessCommand.self,
        ]
    )
}
