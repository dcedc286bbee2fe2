import Foundation
import HTTPTypes
import Hummingbird
import Ingest
import NIOCore
import ServiceLifecycle

/// `GET /events`: document status changes as Server-Sent Events.
///
/// Each event is `id: <event id>`, `event: <state>`, `data: <document JSON>`. A client that
/// reconnects with `Last-Event-ID` (or `?after=`) gets every event after that id, none lost and
/// none twice (`?after=latest`: only events from now on, for a page that has just listed the
/// documents as they are): ids come from the status-events table, which only grows. A stream that has sent
/// everything waits on the service's ``EventHub`` (one reader of the log for all streams) and
/// sends a keep-alive comment when quiet; streams are capped in all and per key (503 past it).
struct EventRoutes {
    let service: IntakeService
    /// How often a comment line keeps idle connections (and proxies) from timing out.
    var keepAliveInterval: Duration = .seconds(15)

    func add(to router: Router<IntakeRequestContext>) {
        router.get("events") { request, context in
            // The key's knowledge base; without keys, `?knowledge_base=` narrows the stream to one, as
            // it narrows GET /documents (the page shows one knowledge base at a time).
            let shown =
                request.uri.queryParameters.get("knowledge_base") == nil
                ? context.knowledgeBase : try UploadRoutes.knowledgeBase(request, key: context.knowledgeBase)
            return try await events(request, key: context.knowledgeBase, knowledgeBase: shown)
        }
    }

    /// - Parameters:
    ///   - key: the API key's knowledge base (streams are counted per key).
    ///   - knowledgeBase: the knowledge base whose events the stream carries; nil: every one.
    private func events(_ request: Request, key: String?, knowledgeBase: String?) async throws -> Response {
        let resumeFrom = request.headers[HTTPField.Name("Last-Event-ID")!] ?? request.uri.queryParameters.get("after")
        var after: Int64 = 0
        if resumeFrom == "latest" {
            // A page that shows the documents as they are now wants only what changes next.
            after = try await service.database.newestEventID()
        } else if let resumeFrom {
            guard let parsed = Int64(resumeFrom), parsed >= 0 else {
                throw APIError(.badRequest, code: "invalid_query", message: "Last-Event-ID (or after) must be an event id")
            }
            after = parsed
        }
        let start = after
        let feed = EventFeed(database: service.database, knowledgeBase: knowledgeBase)
        let hub = service.eventHub
        do {
            try hub.open(key: key)
        } catch {
            let limit =
                switch error {
                case .tooManyStreams(let limit): "\(limit) event streams are open, the most this server holds"
                case .tooManyStreamsForKey(let limit): "\(limit) event streams are open for this key, the most one key may hold"
                }
            var refusal = APIError(.serviceUnavailable, code: "too_many_streams", message: "\(limit); close one or retry later")
            refusal.extraHeaders = [.retryAfter: "30"]
            throw refusal
        }
        let stream = StreamPlace(hub: hub, key: key)
        let keepAliveInterval = self.keepAliveInterval
        let body = ResponseBody { writer in
            var last = start
            // The id the stream starts after: a client that reconnects before any event (one that
            // asked for `after=latest`, say) resumes from there and misses nothing in between.
            try await writer.write(ByteBuffer(string: "retry: 2000\nid: \(start)\n\n"))
            // A stream ends when the server shuts down (its client reconnects with Last-Event-ID).
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                let text: String
                let newest: Int64?
                do {
                    (text, newest) = try await feed.batch(after: last)
                } catch is StoreUnavailable {
                    // The database is away (restarting, say): the stream waits for it, quietly,
                    // and goes on from where it was.
                    let waitingAfter = last
                    await cancelWhenGracefulShutdown { await hub.wait(after: waitingAfter, timeout: .seconds(1)) }
                    continue
                }
                if let newest {
                    if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
                    last = newest
                    continue
                }
                let before = ContinuousClock.now
                let waitingAfter = last
                await cancelWhenGracefulShutdown { await hub.wait(after: waitingAfter, timeout: keepAliveInterval) }
                if Task.isShuttingDownGracefully { break }
                if ContinuousClock.now - before >= keepAliveInterval {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                }
            }
            withExtendedLifetime(stream) {}
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/event-stream; charset=utf-8",
                .cacheControl: "no-store",
            ], body: body)
    }
}

/// A stream's place in the ``EventHub``, given back when the response (and so this) goes away,
/// however it ends.
private final class StreamPlace: Sendable {
    let hub: EventHub
    let key: String?
    init(hub: EventHub, key: String?) {
        self.hub = hub
        self.key = key
    }
    deinit { hub.close(key: key) }
}

/// Reads status events and formats them as Server-Sent Events.
struct EventFeed: Sendable {
    let database: any IntakeStore
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
