import ArgumentParser
import Foundation
import Ingest
import IntakeRuntime
import IntakeServer
import KnowledgeBase
import Logging
import Metrics
import Prometheus

/// `intake serve`: the upload service on the embedded store (SQLite + a local data directory).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the upload service: POST /uploads and the document endpoints.",
        discussion: """
            Stores everything in --data-dir (created if missing): intake.sqlite (catalog and queue), \
            tmp/ (uploads in flight, swept at start), blobs/ab/cd/<sha256> (documents). With \
            --database postgres://…, the catalog and queue are in PostgreSQL instead, and several \
            nodes can serve one database and one shared --data-dir.

            Every option can also come from the environment, as INTAKE_ and its name in capitals \
            with underscores (INTAKE_PORT, INTAKE_DATA_DIR, INTAKE_MAX_FILE_SIZE, …); a flag wins.

            Try it:
              curl -F title=Handbook -F doc=@Fixtures/documents/sample.pdf http://127.0.0.1:8080/uploads
            """
    )

    @Option(help: "The address to listen on. Anything but loopback needs API keys (intake keys create) or --allow-anonymous.")
    var host = EnvironmentDefaults.string("INTAKE_HOST", "127.0.0.1")

    @Option(help: "The port to listen on.")
    var port = EnvironmentDefaults.int("INTAKE_PORT", 8080)

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("The data directory.", valueName: "path"))
    var dataDirectory = EnvironmentDefaults.string("INTAKE_DATA_DIR", "./intake-data")

    @Option(help: "Knowledge-base workers that extract, chunk and index queued documents (0: none; 'intake worker' runs them apart).")
    var workers = EnvironmentDefaults.int("INTAKE_WORKERS", 2)

    @Option(help: ArgumentHelp("How long a worker's claim on a job holds before another worker, on any node, may take it.", valueName: "seconds"))
    var lease = EnvironmentDefaults.int("INTAKE_LEASE", 60)

    @Option(
        name: .customLong("webhook"),
        help: ArgumentHelp(
            "Post each document that ends processed or dead to this URL (default: INTAKE_WEBHOOK), as JSON signed with HMAC-SHA256 (Intake-Signature), retried until accepted.", valueName: "url"))
    var webhookOption: String?

    @Option(name: .customLong("webhook-secret"), help: ArgumentHelp("The secret that signs webhook posts (default: INTAKE_WEBHOOK_SECRET).", valueName: "secret"))
    var webhookSecretOption: String?

    /// Optional options cannot have a default, so the environment is read here.
    private var webhook: String? { webhookOption ?? EnvironmentDefaults.optionalString("INTAKE_WEBHOOK") }
    private var webhookSecret: String? { webhookSecretOption ?? EnvironmentDefaults.optionalString("INTAKE_WEBHOOK_SECRET") }

    @Option(help: "libmagic handles: how many uploads can be sniffed at once.")
    var sniffers = EnvironmentDefaults.int("INTAKE_SNIFFERS", 4)

    @Option(name: .customLong("idle-timeout"), help: ArgumentHelp("Close a connection that sends nothing for this many seconds (a stalled upload is cleaned up).", valueName: "seconds"))
    var idleTimeout = EnvironmentDefaults.int("INTAKE_IDLE_TIMEOUT", 60)

    @Option(
        name: .customLong("shutdown-grace"),
        help: ArgumentHelp("After SIGTERM or SIGINT, give uploads in flight this many seconds to finish; the rest are cancelled and leave nothing behind.", valueName: "seconds"))
    var shutdownGrace = EnvironmentDefaults.int("INTAKE_SHUTDOWN_GRACE", 30)

    @Option(
        name: .customLong("max-connections"),
        help: ArgumentHelp(
            "Connections held at once; more are closed as they arrive (default: from the descriptor limit, raised to its hard limit: (limit - 128) / 2, at most 10000).", valueName: "count"))
    var maxConnections: Int?

    @Option(
        name: .customLong("max-resumable-uploads"),
        help: ArgumentHelp(
            "Uploads sent in pieces (tus, IETF resumable uploads at /files/) open at once in one knowledge base; more are refused with 429 until one ends. In all knowledge bases together: ten times as many.",
            valueName: "count"))
    var maxResumableUploads = EnvironmentDefaults.int("INTAKE_MAX_RESUMABLE_UPLOADS", 100)

    @Option(
        name: .customLong("min-upload-rate"),
        help: ArgumentHelp("Bytes a second a request body must arrive at, averaged over 30 s of the server waiting for it; slower clients are disconnected (0: none).", valueName: "bytes"))
    var minUploadRate = EnvironmentDefaults.int("INTAKE_MIN_UPLOAD_RATE", 1024)

    @Option(
        name: .customLong("allowed-host"),
        help: ArgumentHelp("A host name requests may name in Host, besides loopback's when bound to loopback (repeatable; bound elsewhere without it: any).", valueName: "name"))
    var allowedHosts: [String] = EnvironmentDefaults.list("INTAKE_ALLOWED_HOSTS")

    @Option(name: .customLong("cors-origin"), help: ArgumentHelp("An origin whose web pages may use the API from a browser, e.g. https://app.example.com (repeatable).", valueName: "origin"))
    var corsOrigins: [String] = EnvironmentDefaults.list("INTAKE_CORS_ORIGINS")

    @Option(
        name: .customLong("metrics-address"),
        help: ArgumentHelp("Serve /metrics on this loopback HOST:PORT of its own (needed for /metrics once API keys exist: it counts every knowledge base).", valueName: "host:port"))
    var metricsAddress = EnvironmentDefaults.string("INTAKE_METRICS_ADDRESS", "")

    @Flag(name: .customLong("allow-anonymous"), help: "Serve a non-loopback address without authentication.")
    var allowAnonymous = false

    @OptionGroup(title: "Passages")
    var chunkOptions: ChunkOptions

    @OptionGroup(title: "Text extraction (each document in a child process)")
    var extractionOptions: ExtractionOptions

    @OptionGroup(title: "Limits")
    var limitOptions: LimitOptions

    @OptionGroup(title: "Store")
    var storeOptions: StoreOptions

    @OptionGroup(title: "Blobs")
    var blobOptions: BlobOptions

    func validate() throws {
        guard (1...65535).contains(port) || port == 0 else { throw ValidationError("--port must be 0 to 65535.") }
        if let webhook {
            guard let url = URL(string: webhook), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ValidationError("--webhook must be an http:// or https:// URL, not '\(webhook)'.")
            }
            guard let secret = webhookSecret, secret.utf8.count >= 16 else {
                throw ValidationError("--webhook needs --webhook-secret (at least 16 characters) to sign its posts.")
            }
        }
        guard workers >= 0 else { throw ValidationError("--workers must be 0 or more.") }
        guard lease >= 2 else { throw ValidationError("--lease must be at least 2 seconds.") }
        guard sniffers > 0 else { throw ValidationError("--sniffers must be at least 1.") }
        guard idleTimeout > 0 else { throw ValidationError("--idle-timeout must be at least 1.") }
        guard shutdownGrace >= 0 else { throw ValidationError("--shutdown-grace must be 0 or more.") }
        if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be at least 1.") }
        guard maxResumableUploads >= 1 else { throw ValidationError("--max-resumable-uploads must be at least 1.") }
        guard minUploadRate >= 0 else { throw ValidationError("--min-upload-rate must be 0 or more.") }
        for origin in corsOrigins where !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) || origin.dropFirst(8).contains("/") {
            throw ValidationError("--cors-origin takes an origin such as https://app.example.com, not '\(origin)'.")
        }
        if !metricsAddress.isEmpty {
            guard let address = parsedMetricsAddress, ServerConfiguration.isLoopback(address.host) else {
                throw ValidationError("--metrics-address must be a loopback HOST:PORT such as 127.0.0.1:9090, not '\(metricsAddress)'.")
            }
        }
    }

    private var isLoopback: Bool { ServerConfiguration.isLoopback(host) }

    /// `--metrics-address` as host and port ("[::1]:9090" or "127.0.0.1:9090").
    private var parsedMetricsAddress: (host: String, port: Int)? {
        guard let colon = metricsAddress.lastIndex(of: ":"), let port = Int(metricsAddress[metricsAddress.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        let host = metricsAddress[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host.isEmpty ? nil : (host, port)
    }

    func run() async throws {
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.dataDirectory = dataDirectory
        configuration.snifferHandles = sniffers
        configuration.workers = workers
        configuration.node.lease = .seconds(lease)
        configuration.metricsAddress = parsedMetricsAddress
        let descriptors = ServerConfiguration.raiseDescriptorLimit()
        configuration.maximumConnections =
            maxConnections ?? EnvironmentDefaults.int("INTAKE_MAX_CONNECTIONS")
            ?? ServerConfiguration.connectionLimit(forDescriptorLimit: descriptors)
        configuration.minimumUploadRate = minUploadRate
        configuration.resumableUploadLimits = ResumableUploadLimits(perKnowledgeBase: maxResumableUploads, total: maxResumableUploads * 10)
        configuration.allowedHosts = allowedHosts
        configuration.corsOrigins = corsOrigins
        configuration.chunker = chunkOptions.chunker
        configuration.extractionHelper = .currentExecutable()
        configuration.extractionLimits = extractionOptions.limits
        if let webhook, let webhookSecret { configuration.webhook = (webhook, webhookSecret) }
        configuration.idleTimeoutSeconds = idleTimeout
        configuration.shutdownGracePeriod = .seconds(shutdownGrace)
        configuration.limits = limitOptions.limits
        var logger = Logger(label: "intake")
        logger.logLevel = .info
        configuration.logger = logger
        // The executable, not the library, bootstraps swift-metrics: into the service's registry.
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: configuration.metrics.registry))
        // Nodes on one store tell their claims apart by name: one per host and port.
        configuration.node.name = "\(ProcessInfo.processInfo.hostName):\(port)"
        let store = try await storeOptions.open(dataDirectory: dataDirectory, logger: logger)
        logger.info("store opened", metadata: ["store": "\(storeOptions.summary)"])
        let service = try IntakeService(configuration: configuration, openBlobs: blobOptions.open) { _ in store }
        logger.info("blob store opened", metadata: ["blobs": "\(blobOptions.summary)"])
        if !isLoopback, !allowAnonymous, try await !service.database.requiresKeys() {
            throw ValidationError("Refusing to serve \(host) to anyone without a key: create one with 'intake keys create --knowledge-base NAME', or pass --allow-anonymous.")
        }
        try await service.run()
        try await store.close()
    }
}
