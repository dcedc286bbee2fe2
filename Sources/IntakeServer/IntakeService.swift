import Foundation
public import Hummingbird
public import Ingest
public import IngestSQLite
import KnowledgeBase
import Logging
import Multipart
import NIOCore
public import ServiceLifecycle
import UnixSignals

/// The parts of a running service: the data directory's store and catalog, the sniffer, and the
/// ingestor that ties them together.
public struct IntakeService: Sendable {
    public let configuration: ServerConfiguration
    public let store: BlobStore
    public let database: SQLiteStore
    public let ingestor: Ingestor
    /// The connections held now, out of ``ServerConfiguration/maximumConnections``.
    public let connections: ConnectionBudget
    /// The one reader of the event log for `GET /events` streams.
    let eventHub: EventHub

    /// `GET /events` streams open now, and how many of them wait on the one reader of the log
    /// (none of which asks the database anything until it moves).
    public var eventStreams: (open: Int, waiting: Int) { eventHub.counts }

    /// Opens the data directory (creating it, sweeping `tmp/`, migrating the database) and loads
    /// libmagic. Fails with a clear error when any of it cannot be done.
    public init(configuration: ServerConfiguration) throws {
        self.configuration = configuration
        connections = ConnectionBudget(limit: configuration.maximumConnections)
        try Self.prepareDataDirectory(configuration.dataDirectory)
        store = try BlobStore(root: configuration.dataDirectory, layout: configuration.blobLayout)
        database = try SQLiteStore(path: configuration.databasePath ?? configuration.dataDirectory + "/intake.sqlite")
        eventHub = EventHub(
            database: database, pollInterval: configuration.eventPollInterval,
            maximumStreams: configuration.maximumEventStreams, maximumStreamsPerKey: configuration.maximumEventStreamsPerKey)
        ingestor = Ingestor(
            store: store, sniffer: try MagicSniffer(handles: configuration.snifferHandles), catalog: database,
            policy: configuration.policy, limits: configuration.limits, logger: configuration.logger)
    }

    /// Creates the data directory, or takes write access away from its group and all access from
    /// others (it holds every tenant's documents): 0700 when new, at most 0750 when it exists,
    /// whatever the umask.
    static func prepareDataDirectory(_ path: String) throws {
        let files = FileManager.default
        guard let mode = (try? files.attributesOfItem(atPath: path))?[.posixPermissions] as? Int else {
            try files.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)  // whatever the umask
            return
        }
        if mode & 0o027 != 0 { try files.setAttributes([.posixPermissions: mode & 0o750], ofItemAtPath: path) }
    }

    /// The routes of the API.
    public func router() -> Router<IntakeRequestContext> {
        let router = Router(context: IntakeRequestContext.self)
        router.add(middleware: AccessLogMiddleware(logger: configuration.logger, metrics: configuration.metrics))
        router.add(middleware: BrowserBoundaryMiddleware(configuration: configuration))
        router.add(middleware: APIKeyMiddleware(database: database))
        router.get("healthz") { _, _ in "ok\n" }
        if configuration.metricsAddress == nil { addMetrics(to: router) }
        router.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        UploadRoutes(service: self).add(to: router)
        DocumentRoutes(service: self).add(to: router)
        EventRoutes(service: self, keepAliveInterval: configuration.eventKeepAliveInterval).add(to: router)
        SearchRoutes(service: self).add(to: router)
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
        let removed = try await ingestor.collectGarbage()
        let abandoned = try await database.releaseAbandonedIdempotencyClaims()
        configuration.logger.info("intake serving", metadata: [
            "address": "\(configuration.host):\(configuration.port)", "data-dir": "\(configuration.dataDirectory)",
            "unreferenced-blobs-removed": "\(removed)", "abandoned-idempotency-claims": "\(abandoned)", "max-connections": "\(configuration.maximumConnections)",
        ])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: application)]
        services += workers().map { .init(service: $0) }
        if let metrics = metricsApplication() { services.append(.init(service: metrics)) }
        if let webhook = configuration.webhook {
            services.append(.init(service: WebhookDeliverer(url: webhook.url, secret: webhook.secret, database: database, logger: configuration.logger)))
        }
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: configuration.logger)
        group.maximumGracefulShutdownDuration = configuration.shutdownGracePeriod
        try await ServiceGroup(configuration: group).run()
        configuration.logger.info("intake stopped")
    }

    /// ``ServerConfiguration/workers`` knowledge-base workers on this data directory, as services
    /// that stop at graceful shutdown (a job they leave is taken again when its lease runs out).
    public func workers() -> [WorkerService] {
        let registry: ProcessorRegistry = configuration.extractionHelper.map { .isolated(helper: $0, limits: configuration.extractionLimits) }
            ?? .builtIn(limits: configuration.extractionLimits)
        return (0..<configuration.workers).map { index in
            WorkerService(worker: ProcessingWorker(
                name: "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(index)",
                store: database, blobs: store, registry: registry, chunker: configuration.chunker, logger: configuration.logger))
        }
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
            server: .http1(configuration: .init(
                additionalChannelHandlers: [
                    ConnectionGuard(budget: connections, minimumRate: minimumRate, window: window), ContinueHandler(),
                ],
                idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "intake"),
            logger: configuration.logger)
    }
}
