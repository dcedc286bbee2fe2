import ArgumentParser
import Foundation
import Ingest

/// Where a client command works: an Intake server (`--server`, `--api-key`) or a local data
/// directory (`--data-dir`), and which knowledge base. Shared by `intake ingest` and `intake search`.
struct TargetOptions: ParsableArguments {
    /// Where the command goes.
    enum Target {
        case server(URL, apiKey: String?)
        case dataDirectory(String)
    }

    @Option(help: ArgumentHelp("The Intake server, e.g. http://127.0.0.1:8080 (default: INTAKE_SERVER).", valueName: "url"))
    var server: String?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Work on this local data directory instead of a server.", valueName: "path"))
    var dataDirectory: String?

    @Option(name: .customLong("api-key"), help: ArgumentHelp("The API key (default: INTAKE_API_KEY).", valueName: "key"))
    var apiKey: String?

    /// The store of `--data-dir`.
    @OptionGroup var store: StoreOptions

    /// The blob store of `--data-dir`.
    @OptionGroup var blobs: BlobOptions

    @Option(name: .customLong("knowledge-base"), help: ArgumentHelp("The knowledge base, when the server has no keys or with --data-dir (with a key: the key's).", valueName: "name"))
    var knowledgeBase: String?

    func validate() throws {
        guard server == nil || dataDirectory == nil else { throw ValidationError("Give either --server or --data-dir, not both.") }
        if let knowledgeBase, KnowledgeBaseName(knowledgeBase) == nil {
            throw ValidationError("--knowledge-base must be \(KnowledgeBaseName.rule), not '\(knowledgeBase)'.")
        }
        _ = try target
    }

    /// The server (from the flag or INTAKE_SERVER, checked to be an http(s) URL), else the data directory.
    var target: Target {
        get throws {
            if let dataDirectory { return .dataDirectory(dataDirectory) }
            guard let address = server ?? EnvironmentDefaults.optionalString("INTAKE_SERVER") else {
                throw ValidationError("Give --server URL (or INTAKE_SERVER) for a server, or --data-dir PATH for a local data directory.")
            }
            guard let url = URL(string: address), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ValidationError("--server must be an http:// or https:// URL, not '\(address)'.")
            }
            return .server(url, apiKey: apiKey ?? EnvironmentDefaults.optionalString("INTAKE_API_KEY"))
        }
    }
}
