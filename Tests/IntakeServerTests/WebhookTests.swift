import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingest
import IngestSQLite
import IntakeRuntime
import IntakeServer
import IntakeTesting
import KnowledgeBase
import Logging
import Synchronization
import Testing

/// What a webhook receiver got.
final class ReceivedPosts: Sendable {
    struct Post: Sendable {
        let eventID: String?
        let signature: String?
        let body: [UInt8]
    }
    private let posts = Mutex<[Post]>([])
    func add(_ post: Post) -> Int {
        posts.withLock {
            $0.append(post); return $0.count
        }
    }
    var all: [Post] { posts.withLock { $0 } }
}

@Suite struct WebhookTests {
    @Test func aReceiverThatFailsTwiceGetsTheEventOnceItAcceptsSignedTheSameEachTime() async throws {
        let live = try LiveService()
        let received = ReceivedPosts()
        let receiver = Router()
        receiver.post("hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let count = received.add(
                .init(
                    eventID: request.headers[HTTPField.Name("Intake-Event-Id")!], signature: request.headers[HTTPField.Name("Intake-Signature")!],
                    body: Array(body.readableBytesView)))
            return Response(status: count <= 2 ? .internalServerError : .noContent)
        }
        let secret = "a-webhook-secret-of-some-length"
        try await Application(router: receiver, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let url = "http://127.0.0.1:\(client.port!)/hook"
            _ = try await live.service.database.webhookCursor(url: url)  // subscribed before the document exists
            var deliverer = WebhookDeliverer(url: url, secret: secret, database: live.service.database, owner: "node-a", logger: Logger(label: "test"))
            let clock = TestClock()
            deliverer.baseDelay = .seconds(1)
            deliverer.pollInterval = .seconds(1)
            deliverer.clock = clock
            let delivering = Task { try await deliverer.run() }
            defer { delivering.cancel() }

            let (body, contentType) = uploadBody(file: "sample.md", type: nil, data: try fixture("sample.md"))
            try await live.test(keepData: true) { api in
                let created = try await api.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body)
                #expect(created.status == .created)
            }
            let worker = try #require(live.service.node.workers().first).worker
            let processed = try await worker.processNext()
            #expect(processed)

            // Each wait of the deliverer (a poll, a backoff) ends when the test moves its clock.
            while received.all.count < 3 {
                await clock.waitForSleepers()
                clock.advance(by: .seconds(600))
            }
            // Accepted: the deliverer goes back to polling an empty log, and posts nothing more.
            for _ in 0..<3 {
                await clock.waitForSleepers()
                clock.advance(by: .seconds(1))
            }
            await clock.waitForSleepers()
            let posts = received.all
            #expect(posts.count == 3)
            #expect(Set(posts.map(\.body)).count == 1)
            #expect(Set(posts.map(\.eventID)).count == 1)
            for post in posts {
                // Intake-Signature: t=UNIX,v1=HEX with HEX = HMAC-SHA256(secret, "UNIX." + body)
                let fields = Dictionary(
                    uniqueKeysWithValues: (post.signature ?? "").split(separator: ",").map {
                        let pair = $0.split(separator: "=", maxSplits: 1)
                        return (String(pair[0]), String(pair[1]))
                    })
                let timestamp = try #require(fields["t"])
                let expected = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + post.body, using: SymmetricKey(data: Array(secret.utf8)))
                #expect(fields["v1"] == expected.map { String(format: "%02x", $0) }.joined())
            }
            let event = try #require(try JSONSerialization.jsonObject(with: Data(posts[0].body)) as? [String: Any])
            #expect(event["type"] as? String == "document.processed")
            #expect((event["document"] as? [String: Any])?["filename"] as? String == "sample.md")
            #expect((event["document"] as? [String: Any])?["status"] as? String == "processed")
            #expect(String(event["event_id"] as? Int ?? -1) == posts[0].eventID)
            let cursor = try await live.service.database.webhookCursor(url: url)
            #expect(cursor >= Int64(event["event_id"] as? Int ?? .max))
        }
        try? FileManager.default.removeItem(atPath: live.directory)
    }

    @Test func twoNodesDeliveringOneWebhookPostEachEventOnce() async throws {
        let live = try LiveService()
        let received = ReceivedPosts()
        let receiver = Router()
        receiver.post("hook") { request, _ -> Response in
            _ = received.add(.init(eventID: request.headers[HTTPField.Name("Intake-Event-Id")!], signature: nil, body: []))
            return Response(status: .noContent)
        }
        try await Application(router: receiver, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let url = "http://127.0.0.1:\(client.port!)/hook"
            _ = try await live.service.database.webhookCursor(url: url)
            let clock = TestClock()
            let deliveries = ["node-a", "node-b"].map { node in
                var deliverer = WebhookDeliverer(url: url, secret: "a-webhook-secret-of-some-length", database: live.service.database, owner: node, logger: Logger(label: node))
                deliverer.clock = clock
                return Task { try await deliverer.run() }
            }
            defer { for delivery in deliveries { delivery.cancel() } }
            let (body, contentType) = uploadBody(file: "sample.md", type: nil, data: try fixture("sample.md"))
            try await live.test(keepData: true) { (api) async throws in
                for _ in 0..<3 {
                    #expect(try await api.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body).status == .created)
                }
            }
            let worker = try #require(live.service.node.workers().first).worker
            for _ in 0..<3 { #expect(try await worker.processNext()) }
            // Both deliverers poll; whichever holds the lease posts.
            for _ in 0..<10 {
                await clock.waitForSleepers(2)
                clock.advance(by: .seconds(1))
            }
            await clock.waitForSleepers(2)
            let posts = received.all
            #expect(posts.count == 3)
            #expect(Set(posts.compactMap(\.eventID)).count == 3)
        }
        try? FileManager.default.removeItem(atPath: live.directory)
    }
}
