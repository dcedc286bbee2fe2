import ArgumentParser
import Foundation
import Ingest

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
        var path = EnvironmentDefaults.string("INTAKE_DATA_DIR", "./intake-data")

        @OptionGroup var store: StoreOptions

        /// Runs `body` on the service's store, then closes it.
        func withStore<T>(_ body: (any IntakeStore) async throws -> T) async throws -> T {
            let store = try await store.open(dataDirectory: path)
            do {
                let value = try await body(store)
                try await store.close()
                return value
            } catch {
                try? await store.close()
                throw error
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it (the only time it is shown).")

        @Option(name: .customLong("knowledge-base"), help: "The knowledge base the key uploads into and reads from.")
        var knowledgeBase: String

        @OptionGroup var dataDirectory: DataDirectory

        /// `--knowledge-base`, checked by the one rule for names.
        var name: KnowledgeBaseName {
            get throws {
                guard let name = KnowledgeBaseName(knowledgeBase) else { throw ValidationError("--knowledge-base must be \(KnowledgeBaseName.rule).") }
                return name
            }
        }

        func validate() throws {
            _ = try name
        }

        func run() async throws {
            let name = try name
            let (record, secret) = try await dataDirectory.withStore { try await $0.createKey(knowledgeBase: name) }
            print(secret)
            FileHandle.standardError.write(Data("key \(record.id) for knowledge base '\(record.knowledgeBase)'; it is not stored, keep it now\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (ids and knowledge bases, never secrets).")

        @OptionGroup var dataDirectory: DataDirectory

        func run() async throws {
            for key in try await dataDirectory.withStore({ try await $0.keys() }) {
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
            guard try await dataDirectory.withStore({ try await $0.revokeKey(id: id) }) else {
                throw ValidationError("No active key has the id \(id).")
            }
            print("revoked \(id)")
        }
    }
}
