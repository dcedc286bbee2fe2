import ArgumentParser
import Foundation
import IngestSQLite

/// `intake keys`: API keys, each bound to one knowledge base. Only a hash of each key is stored.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke API keys.",
        discussion: "Once any key exists, the service answers only requests with 'Authorization: Bearer KEY', and each key sees only its knowledge base.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct DataDirectory: ParsableArguments {
        @Option(name: .customLong("data-dir"), help: ArgumentHelp("The service's data directory.", valueName: "path"))
        var path = "./intake-data"

        func open() throws -> SQLiteStore {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            return try SQLiteStore(path: path + "/intake.sqlite")
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it (the only time it is shown).")

        @Option(name: .customLong("knowledge-base"), help: "The knowledge base the key uploads into and reads from.")
        var knowledgeBase: String

        @OptionGroup var dataDirectory: DataDirectory

        func validate() throws {
            let valid = !knowledgeBase.isEmpty && knowledgeBase.utf8.count <= 64
                && knowledgeBase.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
            guard valid else { throw ValidationError("--knowledge-base must be 1 to 64 letters, digits, '.', '_' or '-'.") }
        }

        func run() async throws {
            let (record, secret) = try await dataDirectory.open().createKey(knowledgeBase: knowledgeBase)
            print(secret)
            FileHandle.standardError.write(Data("key \(record.id) for knowledge base '\(record.knowledgeBase)'; it is not stored, keep it now\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (ids and knowledge bases, never secrets).")

        @OptionGroup var dataDirectory: DataDirectory

        func run() async throws {
            for key in try await dataDirectory.open().keys() {
                let state = key.revokedAt.map { "revoked \($0.formatted(.iso8601))" } ?? "active"
                print("\(key.id)\t\(key.knowledgeBase)\t\(key.createdAt.formatted(.iso8601))\t\(state)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by its id.")

        @Argument(help: "The key's id, as `intake keys list` shows it.")
        var id: String

        @OptionGroup var dataDirectory: DataDirectory

        func run() async throws {
            guard try await dataDirectory.open().revokeKey(id: id) else {
                throw ValidationError("No active key has the id \(id).")
            }
            print("revoked \(id)")
        }
    }
}
