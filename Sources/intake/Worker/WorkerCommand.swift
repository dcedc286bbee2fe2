import ArgumentParser
import Ingest
import IntakeRuntime
import Logging
import KnowledgeBase
import ServiceLifecycle
import UnixSignals

/// `intake worker`: knowledge-base workers on a data directory, apart from `intake serve` (on
/// the same directory or not), until SIGTERM or SIGINT.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Process queued documents: extract text, chunk, index for search.",
        discussion: """
            Runs beside `intake serve` on the same --data-dir (or instead of its --workers). Each \
            job is claimed with a lease that the worker renews while it works; if the worker is \
            killed, the lease runs out and another worker takes the job. PDFs need pdftotext \
            (Debian: apt-get install poppler-utils).
            """
    )

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("The data directory.", valueName: "path"))
    var dataDirectory = EnvironmentDefaults.string("INTAKE_DATA_DIR", "./intake-data")

    @Option(help: "Workers in this process.")
    var workers = EnvironmentDefaults.int("INTAKE_WORKERS", 2)

    @Option(help: ArgumentHelp("How long a claimed job is held before another worker may take it.", valueName: "seconds"))
    var lease = 60

    @OptionGroup(title: "Passages")
    var chunkOptions: ChunkOptions

    @OptionGroup(title: "Text extraction (each document in a child process)")
    var extractionOptions: ExtractionOptions

    @OptionGroup(title: "Store")
    var storeOptions: StoreOptions

    @OptionGroup(title: "Blobs")
    var blobOptions: BlobOptions

    func validate() throws {
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1.") }
        guard lease >= 2 else { throw ValidationError("--lease must be at least 2 seconds.") }
    }

    func run() async throws {
        var configuration = NodeConfiguration()
        configuration.dataDirectory = dataDirectory
        configuration.workers = workers
        configuration.lease = .seconds(lease)
        configuration.chunker = chunkOptions.chunker
        configuration.extractionHelper = .currentExecutable()
        configuration.extractionLimits = extractionOptions.limits
        configuration.snifferHandles = 1
        var logger = Logger(label: "intake-worker")
        logger.logLevel = .info
        configuration.logger = logger
        let store = try await storeOptions.open(dataDirectory: dataDirectory, logger: logger)
        let node = try IntakeNode(configuration: configuration, openBlobs: blobOptions.open) { _ in store }
        defer { Task { await node.blobs.shutdown() } }
        logger.info("intake workers running", metadata: ["workers": "\(workers)", "data-dir": "\(dataDirectory)", "node": "\(configuration.name)", "store": "\(storeOptions.summary)"])
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: node.workers().map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        try await store.close()
    }
}
