import Foundation
import HTTPTypes
import Hummingbird
import Ingest
import IngestSQLite
import NIOCore

/// `GET /events`: document status changes as Server-Sent Events.
///
/// Each event is `id: <event id>`, `event: <state>`, `data: <document JSON>`. A client that
/// reconnects with `Last-Event-ID` (or `?after=`) gets every event after that id, none lost and
/// none twice: ids come from the status-events table, which only grows.
struct EventRoutes {
    let service: IntakeService
    /// How often the table is polled when there is nothing new.
    var pollInterval: Duration = .milliseconds(200)
    /// How often a comment line keeps idle connections (and proxies) from timing out.
    var keepAliveInterval: Duration = .seconds(15)

    func add(to router: Router<IntakeRequestContext>) {
        router.get("events") { request, context in try events(request, knowledgeBase: context.knowledgeBase) }
    }

    private func events(_ request: Request, knowledgeBase: String?) throws -> Response {
        let resumeFrom = request.headers[HTTPField.Name("Last-Event-ID")!] ?? request.uri.queryParameters.get("after")
        var after: Int64 = 0
        if let resumeFrom {
            guard let parsed = Int64(resumeFrom), parsed >= 0 else {
                throw APIError(.badRequest, code: "invalid_query", message: "Last-Event-ID (or after) must be an event id")
            }
            after = parsed
        }
        let start = after
        let feed = EventFeed(database: service.database, knowledgeBase: knowledgeBase)
        let pollInterval = self.pollInterval
        let keepAliveInterval = self.keepAliveInterval
        let body = ResponseBody { writer in
            var last = start
            var quietSince = ContinuousClock.now
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            while !Task.isCancelled {
                let (text, newest) = try await feed.batch(after: last)
                if let newest {
                    try await writer.write(ByteBuffer(string: text))
                    last = newest
                    quietSince = .now
                    continue
                }
                if ContinuousClock.now - quietSince >= keepAliveInterval {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    quietSince = .now
                }
                try await Task.sleep(for: pollInterval)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [
            .contentType: "text/event-stream; charset=utf-8",
            .cacheControl: "no-store",
        ], body: body)
    }
}

/// Reads status events and formats them as Server-Sent Events.
struct EventFeed: Sendable {
    let database: SQLiteStore
    /// Only this knowledge base's documents, when set.
    let knowledgeBase: String?
    var batchSize = 100

    /// The events after `id` as SSE text, and the last id in it (nil when there are none).
    func batch(after id: Int64) async throws -> (String, Int64?) {
        let events = try await database.events(after: id, limit: batchSize)
        guard let last = events.last else { return ("", nil) }
        var text = ""
        for event in events {
            if let knowledgeBase, try await database.knowledgeBase(ofDocument: event.documentID) != knowledgeBase {
                continue
            }
            let data: Data
            if let document = try await database.document(id: event.documentID) {
                data = try APIModels.encoder.encode(APIModels.Document(document))
            } else {
                data = try APIModels.encoder.encode(["id": event.documentID, "status": "deleted"])
            }
            // JSON from the encoder is one line: no "data:" continuation is needed.
            text += "id: \(event.id)\nevent: \(event.state.rawValue)\ndata: \(String(decoding: data, as: UTF8.self))\n\n"
        }
        return (text, last.id)
    }
}
