import Foundation
public import Hummingbird
public import Ingest
public import IntakeRuntime
import KnowledgeBase
import Logging
import Multipart
import NIOCore
public import ServiceLifecycle
import UnixSignals

/// The HTTP service in front of one ``IntakeNode``: routes, connection limits, event streams,
/// webhooks. Which store the node records into is its caller's choice; this module knows only
/// the ``IntakeStore`` seam.
public struct IntakeService: Sendable {
    public let configuration: ServerConfiguration
    /// The node behind the service: data directory, store, ingestor, workers.
    public let node: IntakeNode
    public var blobs: any BlobStore { node.blobs }
    /// The node's store: catalog, queue, search index, keys, idempotency, webhook cursors.
    public var database: any IntakeStore { node.store }
    public var ingestor: Ingestor { node.ingestor }
    /// The connections held now, out of ``ServerConfiguration/maximumConnections``.
    public let connections: ConnectionBudget
    /// The one reader of the event log for `GET /events` streams.
    let eventHub: EventHub
    /// Releases the keys of failed `Idempotency-Key` requests, again later if the store is away.
    let idempotencyReleases: IdempotencyReleases
    /// The bytes of resumable uploads (tus), in `DATA/resumable`.
    let resumableFiles: ResumableFiles

    /// `GET /events` streams open now, and how many of them wait on the one reader of the log
    /// (none of which asks the database anything until it moves).
    public var eventStreams: (open: Int, waiting: Int) { eventHub.counts }

    /// Opens the node (``IntakeNode/init(configuration:openStore:)``) of `configuration.node`,
    /// on the store `openStore` opens. Fails with a clear error when any of it cannot be done.
    public init(
        configuration: ServerConfiguration,
        openBlobs: (_ configuration: NodeConfiguration) throws -> any BlobStore = IntakeNode.directoryBlobs,
        openStore: (_ dataDirectory: String) throws -> any IntakeStore
    ) throws {
        self.configuration = configuration
        node = try IntakeNode(configuration: configuration.node, openBlobs: openBlobs, openStore: openStore)
        connections = ConnectionBudget(limit: configuration.maximumConnections)
        eventHub = EventHub(
            database: node.store, pollInterval: configuration.eventPollInterval,
            maximumStreams: configuration.maximumEventStreams, maximumStreamsPerKey: configuration.maximumEventStreamsPerKey)
        idempotencyReleases = IdempotencyReleases(store: node.store, logger: configuration.logger)
        resumableFiles = try ResumableFiles(dataDirectory: configuration.dataDirectory)
    }

    /// The routes of the API.
    public func router() -> Router<IntakeRequestContext> {
        let router = Router(context: IntakeRequestContext.self)
        router.add(middleware: AccessLogMiddleware(logger: configuration.logger, metrics: configuration.metrics))
        router.add(middleware: StoreErrorMiddleware())
        router.add(middleware: BrowserBoundaryMiddleware(configuration: configuration))
        router.add(middleware: APIKeyMiddleware(database: database))
        router.get("healthz") { _, _ in "ok\n" }
        WebPageRoutes().add(to: router)
        if configuration.metricsAddress == nil { addMetrics(to: router) }
        router.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        UploadRoutes(service: self).add(to: router)
        DocumentRoutes(service: self).add(to: router)
        EventRoutes(service: self, keepAliveInterval: configuration.eventKeepAliveInterval).add(to: router)
        SearchRoutes(service: self).add(to: router)
        ResumableRoutes(uploads: ResumableUploads(service: self, files: resumableFiles)).add(to: router)
        return router
    }

    /// Adds `GET /metrics` (Prometheus text) to `router`: the metrics application's route, for
    /// an application of your own too.
    public func addMetrics<Context: RequestContext>(to router: Router<Context>) {
        let metrics = configuration.metrics
        let database = self.database
        router.get("metrics") { _, _ -> Response in
            let text = try await metrics.exposition(database: database)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
    }

    /// The application serving `/metrics` alone on ``ServerConfiguration/metricsAddress``, if set.
    public func metricsApplication() -> (any Service)? {
        guard let address = configuration.metricsAddress else { return nil }
        let router = Router()
        addMetrics(to: router)
        return Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "intake-metrics"),
            logger: configuration.logger)
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting connections, gives the requests in
    /// flight up to ``ServerConfiguration/shutdownGracePeriod`` to finish, cancels what remains
    /// (cancelled uploads leave nothing behind) and returns.
    public func run() async throws {
        try await run(application())
    }

    /// Serves `application` (made by ``application(responder:)``) as ``run()`` does.
    public func run(_ application: some ApplicationProtocol) async throws {
        let sweep = try await node.sweep()
        configuration.logger.info(
            "intake serving",
            metadata: [
                "address": "\(configuration.host):\(configuration.port)", "data-dir": "\(configuration.dataDirectory)", "node": "\(configuration.node.name)",
                "unreferenced-blobs-removed": "\(sweep.unreferencedBlobsRemoved)", "abandoned-idempotency-claims": "\(sweep.abandonedIdempotencyClaims)",
                "abandoned-blob-writes": "\(sweep.abandonedBlobWrites)",
                "max-connections": "\(configuration.maximumConnections)",
            ])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: application)]
        services += node.workers().map { .init(service: $0) }
        services.append(.init(service: idempotencyReleases))
        services.append(.init(service: ResumableUploadSweeper(service: self)))
        if let metrics = metricsApplication() { services.append(.init(service: metrics)) }
        if let webhook = configuration.webhook {
            services.append(.init(service: WebhookDeliverer(url: webhook.url, secret: webhook.secret, database: database, owner: configuration.node.name, logger: configuration.logger)))
        }
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: configuration.logger)
        group.maximumGracefulShutdownDuration = configuration.shutdownGracePeriod
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            await node.blobs.shutdown()
            throw error
        }
        await node.blobs.shutdown()
        configuration.logger.info("intake stopped")
    }

    /// The application serving the API on the configured address.
    public func application() -> some ApplicationProtocol {
        application(responder: router().buildResponder())
    }

    /// The application serving `responder` (the API's router, perhaps wrapped) with the
    /// configured address, timeouts and `Expect: 100-continue` handling.
    public func application(responder: some HTTPResponder<IntakeRequestContext>) -> some ApplicationProtocol {
        let connections = self.connections
        let minimumRate = configuration.minimumUploadRate
        let window = TimeAmount.nanoseconds(Int64(configuration.uploadRateWindow / .nanoseconds(1)))
        return Application(
            responder: responder,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [
                        ConnectionGuard(budget: connections, minimumRate: minimumRate, window: window), ContinueHandler(),
                    ],
                    idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "intake"),
            logger: configuration.logger)
    }
}
