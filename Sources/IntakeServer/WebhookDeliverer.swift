public import AsyncHTTPClient
import Crypto
import Foundation
public import Ingest
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle

/// Posts each terminal transition of a document (`processed`, `dead`) to a webhook, in event
/// order, at least once: it reads the durable status events after its cursor, posts each one
/// until the receiver answers 2xx (retrying with exponential backoff), then advances the cursor.
/// It runs on its own, so a slow or failing receiver never holds up uploads or workers.
///
/// With several nodes on one store, one delivers at a time: it holds a lease on the webhook
/// (``WebhookCursorStore/leaseWebhook(url:owner:lease:)``), renewed at every poll and retry; the
/// others wait, and one takes over when a node that died lets it lapse.
///
/// Each POST carries `Intake-Event-Id` (for de-duplication) and `Intake-Signature: t=UNIX,v1=HEX`,
/// the HMAC-SHA256 under the secret of `UNIX + "." + body`.
public struct WebhookDeliverer: Service {
    public let url: String
    let secret: String
    let database: any IntakeStore
    let client: HTTPClient
    let logger: Logger
    /// The wait after the first failed attempt; doubled after each, up to ``maximumDelay``.
    public var baseDelay: Duration = .seconds(1)
    public var maximumDelay: Duration = .seconds(300)
    /// How often to look for new events.
    public var pollInterval: Duration = .milliseconds(500)
    /// What the waits (polls, backoff) are timed by; tests pass a clock they move by hand.
    public var clock: any Clock<Duration> = ContinuousClock()
    /// This deliverer's name in the lease (its node's).
    public let owner: String
    /// How long the lease holds without a renewal: how soon another node takes over.
    public var lease: Duration = .seconds(30)

    public init(url: String, secret: String, database: any IntakeStore, owner: String, client: HTTPClient = .shared, logger: Logger) {
        self.owner = owner
        self.url = url
        self.secret = secret
        self.database = database
        self.client = client
        self.logger = logger
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await deliverUntilCancelled()
        }
    }

    /// Delivers until cancelled. A failure to read the event log is logged and retried after the
    /// poll interval: it never ends the service (which would stop the whole server).
    func deliverUntilCancelled() async throws {
        while !Task.isCancelled {
            do {
                guard var cursor = try await database.leaseWebhook(url: url, owner: owner, lease: lease) else {
                    try await clock.sleep(for: pollInterval)  // another node delivers
                    continue
                }
                let events = try await database.events(after: cursor, limit: 100)
                for event in events {
                    if event.state == .processed || event.state == .dead {
                        guard try await deliver(event) else { break }
                    }
                    cursor = event.id
                    try await database.advanceWebhookCursor(url: url, to: cursor)
                }
                if events.isEmpty { try await clock.sleep(for: pollInterval) }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.error("webhook delivery cannot read the event log; retrying", metadata: ["error": "\(error)"])
                try? await clock.sleep(for: pollInterval)
            }
        }
    }

    /// Posts `event` until the receiver accepts it (true), or until this node's lease is taken
    /// over while it retries (false: the node that holds it now delivers the event).
    private func deliver(_ event: StatusEvent) async throws -> Bool {
        let body = try await payload(for: event)
        var attempt = 0
        while true {
            attempt += 1
            if attempt > 1, try await database.leaseWebhook(url: url, owner: owner, lease: lease) == nil { return false }
            let timestamp = Int(Date().timeIntervalSince1970)
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "intake-webhook")
            request.headers.add(name: "Intake-Event-Id", value: String(event.id))
            request.headers.add(name: "Intake-Signature", value: "t=\(timestamp),v1=\(Self.signature(secret: secret, timestamp: timestamp, body: body))")
            request.body = .bytes(ByteBuffer(bytes: body))
            var failure: String
            do {
                let response = try await client.execute(request, timeout: .seconds(30))
                _ = try? await response.body.collect(upTo: 64 * 1024)
                if (200..<300).contains(response.status.code) {
                    logger.info("webhook delivered", metadata: ["event": "\(event.id)", "state": "\(event.state.rawValue)", "attempts": "\(attempt)"])
                    return true
                }
                failure = "HTTP \(response.status.code)"
            } catch {
                if Task.isCancelled { throw CancellationError() }
                failure = "\(error)"
            }
            let delay = RetryPolicy(baseDelay: baseDelay, maximumDelay: maximumDelay)
                .delay(afterAttempt: attempt, jitter: Double.random(in: 0...1))
            logger.warning(
                "webhook delivery failed; retrying",
                metadata: [
                    "event": "\(event.id)", "attempt": "\(attempt)", "error": "\(failure)", "retry-in": "\(delay)",
                ])
            try await clock.sleep(for: delay)
        }
    }

    /// `{"event_id", "type", "state", "time", "document"}` with the document as GET /documents/{id}
    /// shows it (or null when it was deleted since).
    private func payload(for event: StatusEvent) async throws -> [UInt8] {
        let document = try await database.document(id: event.documentID)
        let job = try await database.job(documentID: event.documentID)
        let body = APIModels.WebhookEvent(
            eventID: event.id, type: "document.\(event.state.rawValue)", state: event.state.rawValue, time: event.time,
            document: document.map { APIModels.Document($0, detail: job, detailed: true) })
        return Array(try APIModels.encoder.encode(body))
    }

    /// Lowercase hex HMAC-SHA256 of `timestamp.body` under `secret`.
    public static func signature(secret: String, timestamp: Int, body: [UInt8]) -> String {
        var message = Array("\(timestamp).".utf8)
        message += body
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }
}
