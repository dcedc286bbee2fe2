import ArgumentParser
import AsyncHTTPClient
import Foundation
import Ingest
import NIOCore
import NIOHTTP1

/// `intake reprocess`: queues documents to be processed again (after an upgrade that reads more of
/// them: OCR, pages, all the parts of office documents), on a server or in a data directory. A
/// new processor changes nothing by itself; this brings old documents up to date.
struct ReprocessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprocess",
        abstract: "Queue documents to be processed again.",
        discussion: """
            Name documents by id, or take --all of them (narrowed by --type, --filter, \
            --uploaded-after, --uploaded-before, --knowledge-base). Documents being processed now are \
            skipped and counted. Exit status 0 when every document named was queued or skipped.
            """)

    @Argument(help: ArgumentHelp("Documents to reprocess, by id.", valueName: "id"))
    var ids: [String] = []

    @Flag(help: "Every document the other options keep.")
    var all = false

    @OptionGroup(title: "Where to")
    var destination: TargetOptions

    @OptionGroup(title: "Which documents")
    var which: FilterOptions

    func validate() throws {
        guard all != !ids.isEmpty else { throw ValidationError("Name documents by id, or give --all (not both).") }
    }

    /// How a run went.
    struct Tally {
        var queued = 0
        var inProgress = 0
        var missing: [String] = []
    }

    func run() async throws {
        var tally = Tally()
        switch try destination.target {
        case .dataDirectory(let dataDirectory):
            let store = try await destination.store.open(dataDirectory: dataDirectory)
            defer { Task { try? await store.close() } }
            for id in try await selected(local: store) {
                if try await store.document(id: id) == nil {
                    tally.missing.append(id)
                } else if try await store.enqueue(documentID: id) {
                    tally.queued += 1
                } else {
                    tally.inProgress += 1
                }
            }
        case .server(let url, let apiKey):
            let server = Server(base: url, apiKey: apiKey)
            for id in try await selected(remote: server) {
                switch try await server.send("POST", "documents/\(id)/reprocess").status {
                case 202: tally.queued += 1
                case 409: tally.inProgress += 1
                case 404: tally.missing.append(id)
                case let status: throw ValidationError("the server answered \(status) to the reprocessing of \(id)")
                }
            }
        }
        print("\(tally.queued) document(s) queued to be processed again; \(tally.inProgress) being processed now (skipped)")
        for id in tally.missing { print("  not found: \(id)") }
        if !tally.missing.isEmpty { throw ExitCode(1) }
    }

    /// The ids named, or every document the options keep in the data directory's store.
    private func selected(local store: any IntakeStore) async throws -> [String] {
        guard all else { return ids }
        var found: [String] = []
        var cursor: String?
        repeat {
            let page = try await store.documents(
                DocumentQuery(knowledgeBase: destination.knowledgeBase, limit: 1000, cursor: cursor, filter: try which.filter))
            found += page.documents.map(\.id)
            cursor = page.nextCursor
        } while cursor != nil
        return found
    }

    /// The ids named, or every document the options keep on the server (`GET /documents`, page by page).
    private func selected(remote server: Server) async throws -> [String] {
        guard all else { return ids }
        struct Page: Decodable {
            struct Document: Decodable { let id: String }
            let documents: [Document]
            let next_cursor: String?
        }
        var found: [String] = []
        var cursor: String?
        repeat {
            var items = [URLQueryItem(name: "limit", value: "1000")] + (try which.queryItems)
            if let knowledgeBase = destination.knowledgeBase { items.append(URLQueryItem(name: "knowledge_base", value: knowledgeBase)) }
            if let cursor { items.append(URLQueryItem(name: "cursor", value: cursor)) }
            let (status, body) = try await server.send("GET", "documents", query: items)
            guard status == 200, let page = try? JSONDecoder().decode(Page.self, from: body) else {
                throw ValidationError("the server answered \(status) to GET /documents: \(String(decoding: body.prefix(300), as: UTF8.self))")
            }
            found += page.documents.map(\.id)
            cursor = page.next_cursor
        } while cursor != nil
        return found
    }

    /// Requests to an Intake server, with its API key.
    struct Server {
        let base: URL
        let apiKey: String?

        func send(_ method: String, _ path: String, query: [URLQueryItem] = []) async throws -> (status: Int, body: Data) {
            var components = URLComponents(url: base, resolvingAgainstBaseURL: false)!
            components.path = (components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path) + "/" + path
            if !query.isEmpty { components.queryItems = query }
            var request = HTTPClientRequest(url: components.url!.absoluteString)
            request.method = HTTPMethod(rawValue: method)
            if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 16 << 20)
            return (Int(response.status.code), Data(body.readableBytesView))
        }
    }
}
