import ArgumentParser
import AsyncHTTPClient
import Foundation
import Ingest
import IngestSQLite
import NIOCore
import NIOHTTP1

/// `intake search`: the passages that best match some words, from a server or a data directory.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the processed documents of a knowledge base.")

    @Argument(help: "The words to look for.")
    var words: [String]

    @Option(help: ArgumentHelp("The Intake server (default: INTAKE_SERVER).", valueName: "url"))
    var server: String?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Search this local data directory instead of a server.", valueName: "path"))
    var dataDirectory: String?

    @Option(name: .customLong("api-key"), help: ArgumentHelp("The API key (default: INTAKE_API_KEY).", valueName: "key"))
    var apiKey: String?

    @Option(name: .customLong("knowledge-base"), help: ArgumentHelp("Only this knowledge base (with a key: the key's).", valueName: "name"))
    var knowledgeBase: String?

    @Option(help: "At most this many results (1 to 100).")
    var limit = 10

    @Flag(help: "Print the server's JSON answer.")
    var json = false

    func validate() throws {
        guard (1...100).contains(limit) else { throw ValidationError("--limit must be 1 to 100.") }
        guard server == nil || dataDirectory == nil else { throw ValidationError("Give either --server or --data-dir, not both.") }
        guard (server ?? EnvironmentDefaults.optionalString("INTAKE_SERVER")) != nil || dataDirectory != nil else {
            throw ValidationError("Give --server URL (or INTAKE_SERVER), or --data-dir PATH.")
        }
    }

    private struct Results: Codable {
        struct Result: Codable {
            let document_id: String
            let filename: String?
            let chunk: Int
            let score: Double
            let snippet: String
        }
        let results: [Result]
    }

    func run() async throws {
        let text = words.joined(separator: " ")
        let results: Results
        if let dataDirectory {
            let store = try SQLiteStore(path: dataDirectory + "/intake.sqlite")
            let hits = try await store.search(SearchQuery(text: text, knowledgeBase: knowledgeBase, limit: limit))
            results = Results(results: hits.map { .init(document_id: $0.documentID, filename: $0.filename, chunk: $0.chunk, score: $0.score, snippet: $0.snippet) })
        } else {
            results = try await remote(text)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
            return
        }
        if results.results.isEmpty { print("no passage matches '\(text)'") }
        for (rank, result) in results.results.enumerated() {
            let snippet = result.snippet.split(whereSeparator: \.isNewline).joined(separator: " ")
            print("\(rank + 1). \(result.filename ?? result.document_id) · passage \(result.chunk) · score \(String(format: "%.2f", result.score))")
            print("   \(snippet)")
        }
    }

    private func remote(_ text: String) async throws -> Results {
        let address = server ?? EnvironmentDefaults.optionalString("INTAKE_SERVER") ?? ""
        guard var components = URLComponents(string: address), components.scheme == "http" || components.scheme == "https" else {
            throw ValidationError("--server must be an http:// or https:// URL, not '\(address)'.")
        }
        components.path = (components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path) + "/search"
        components.queryItems = [URLQueryItem(name: "q", value: text), URLQueryItem(name: "limit", value: "\(limit)")]
            + (knowledgeBase.map { [URLQueryItem(name: "knowledge_base", value: $0)] } ?? [])
        var request = HTTPClientRequest(url: components.url!.absoluteString)
        if let key = apiKey ?? EnvironmentDefaults.optionalString("INTAKE_API_KEY") {
            request.headers.add(name: "Authorization", value: "Bearer \(key)")
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 4 << 20)
        guard response.status.code == 200 else {
            throw ValidationError("the server answered \(response.status.code): \(String(buffer: body))")
        }
        return try JSONDecoder().decode(Results.self, from: Data(body.readableBytesView))
    }
}
