import Foundation
public import Ingest
import KnowledgeBase

/// The composition root of one node: its data directory, the store the executable chose, the
/// blob store, libmagic and the ingestor that ties them together, its start-up sweeps and its
/// workers. `intake serve` puts HTTP in front of it; `intake worker` and
/// `intake ingest --data-dir` use it without.
public struct IntakeNode: Sendable {
    public let configuration: NodeConfiguration
    public let blobs: any BlobStore
    public let store: any IntakeStore
    public let ingestor: Ingestor

    /// Opens the data directory (creating it), the blob store with `openBlobs` (by default the
    /// data directory's `blobs/`; its spool `tmp/` is swept), then the store with `openStore`
    /// (given the data directory, which exists by then), and loads libmagic. Fails with a clear
    /// error when any of it cannot be done.
    public init(
        configuration: NodeConfiguration,
        openBlobs: (_ configuration: NodeConfiguration) throws -> any BlobStore = IntakeNode.directoryBlobs,
        openStore: (_ dataDirectory: String) throws -> any IntakeStore
    ) throws {
        self.configuration = configuration
        try Self.prepareDataDirectory(configuration.dataDirectory)
        blobs = try openBlobs(configuration)
        store = try openStore(configuration.dataDirectory)
        ingestor = Ingestor(
            store: blobs, sniffer: try MagicSniffer(handles: configuration.snifferHandles), catalog: store,
            policy: configuration.policy, limits: configuration.limits, logger: configuration.logger)
    }

    /// The embedded default: blobs under the data directory's `blobs/`.
    public static func directoryBlobs(_ configuration: NodeConfiguration) throws -> any BlobStore {
        try DirectoryBlobStore(root: configuration.dataDirectory, layout: configuration.blobLayout)
    }

    /// Creates the data directory, or takes write access away from its group and all access from
    /// others (it holds every tenant's documents): 0700 when new, at most 0750 when it exists,
    /// whatever the umask.
    public static func prepareDataDirectory(_ path: String) throws {
        let files = FileManager.default
        guard let mode = (try? files.attributesOfItem(atPath: path))?[.posixPermissions] as? Int else {
            try files.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)  // whatever the umask
            return
        }
        if mode & 0o027 != 0 { try files.setAttributes([.posixPermissions: mode & 0o750], ofItemAtPath: path) }
    }

    /// What the start-up sweeps found.
    public struct Sweep: Sendable, Hashable {
        /// Blobs no document refers to (left by a crash between publishing and recording), removed.
        public var unreferencedBlobsRemoved: Int
        /// `Idempotency-Key` claims this node's killed process left in flight, released.
        public var abandonedIdempotencyClaims: Int
        /// Writes to the blob store that a crash cut short (unfinished multipart uploads, streams
        /// never linked to a digest), cleaned up.
        public var abandonedBlobWrites: Int
        /// Appends to resumable uploads this node's killed process left holding their uploads, ended.
        public var abandonedResumableAppends: Int = 0
    }

    /// Run once before serving: removes unreferenced blobs, releases this node's abandoned
    /// `Idempotency-Key` claims and resumable-upload appends, and aborts blob writes left
    /// unfinished for longer than the garbage-collection grace period.
    public func sweep() async throws -> Sweep {
        let removed = try await ingestor.collectGarbage(gracePeriod: Self.gracePeriod)
        let abandoned = try await store.releaseAbandonedIdempotencyClaims(owner: configuration.name)
        let writes = try await blobs.sweepAbandonedWrites(olderThan: Self.gracePeriod)
        let appends = try await store.releaseResumableAppends(node: configuration.name)
        return Sweep(
            unreferencedBlobsRemoved: removed, abandonedIdempotencyClaims: abandoned, abandonedBlobWrites: writes,
            abandonedResumableAppends: appends)
    }

    /// How old an unreferenced blob or an unfinished blob write must be before a sweep removes
    /// it: uploads in flight on other nodes are younger.
    public static let gracePeriod: Duration = .seconds(3600)

    /// ``NodeConfiguration/workers`` knowledge-base workers on this node's store and blobs, as
    /// services that stop at graceful shutdown (a job they leave is taken again when its lease
    /// runs out).
    public func workers() -> [WorkerService] {
        let registry: ProcessorRegistry =
            configuration.extractionHelper.map { .isolated(helper: $0, limits: configuration.extractionLimits) }
            ?? .builtIn(limits: configuration.extractionLimits)
        return (0..<configuration.workers).map { index in
            var worker = ProcessingWorker(
                name: "\(configuration.name)-\(ProcessInfo.processInfo.processIdentifier)-\(index)",
                store: store, blobs: blobs, registry: registry, chunker: configuration.chunker, logger: configuration.logger)
            worker.lease = configuration.lease
            return WorkerService(worker: worker)
        }
    }
}
