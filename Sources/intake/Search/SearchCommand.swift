import ArgumentParser
import AsyncHTTPClient
import Foundation
import Ingest
import NIOCore
import NIOHTTP1

/// `intake search`: the passages that best match some words, from a server or a data directory.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the processed documents of a knowledge base.")

    @Argument(help: "The words to look for.")
    var words: [String]

    @OptionGroup(title: "Where to")
    var destination: TargetOptions

    @Option(help: "At most this many results (1 to 100).")
    var limit = 10

    @OptionGroup(title: "Which documents")
    var which: FilterOptions

    @Flag(help: "Print the server's JSON answer.")
    var json = false

    func validate() throws {
        guard (1...100).contains(limit) else { throw ValidationError("--limit must be 1 to 100.") }
    }

    private struct Results: Codable {
        struct Result: Codable {
            let document_id: String
            let filename: String?
            let chunk: Int
            let score: Double
            let snippet: String
            let page: Int?
        }
        let results: [Result]
    }

    func run() async throws {
        let text = words.joined(separator: " ")
        let results: Results
        switch try destination.target {
        case .dataDirectory(let dataDirectory):
            let store = try await destination.store.open(dataDirectory: dataDirectory)
            let hits = try await store.search(SearchQuery(text: text, knowledgeBase: destination.knowledgeBase, limit: limit, filter: try which.filter))
            try await store.close()
            results = Results(
                results: hits.map {
                    .init(document_id: $0.documentID, filename: $0.filename, chunk: $0.chunk, score: $0.score, snippet: $0.snippet, page: $0.page)
                })
        case .server(let url, let apiKey):
            results = try await remote(text, server: url, apiKey: apiKey)
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
            let page = result.page.map { " · page \($0)" } ?? ""
            print("\(rank + 1). \(result.filename ?? result.document_id)\(page) · passage \(result.chunk) · score \(String(format: "%.2f", result.score))")
            print("   \(snippet)")
        }
    }

    private func remote(_ text: String, server: URL, apiKey: String?) async throws -> Results {
        var components = URLComponents(url: server, resolvingAgainstBaseURL: false)!
        components.path = (components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path) + "/search"
        components.queryItems =
            [URLQueryItem(name: "q", value: text), URLQueryItem(name: "limit", value: "\(limit)")]
            + (destination.knowledgeBase.map { [URLQueryItem(name: "knowledge_base", value: $0)] } ?? []) + (try which.queryItems)
        var request = HTTPClientRequest(url: components.url!.absoluteString)
        if let key = apiKey {
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
