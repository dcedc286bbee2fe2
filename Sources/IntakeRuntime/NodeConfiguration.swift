import Foundation
public import Ingest
public import KnowledgeBase
public import Logging
public import Multipart

/// What one Intake node runs with, HTTP aside: its data directory, what it accepts, and its
/// knowledge-base workers. The store it records into is chosen by the executable.
public struct NodeConfiguration: Sendable {
    /// The data directory: `tmp/`, `blobs/` (and `intake.sqlite` on the embedded store). Nodes
    /// on one PostgreSQL share it (a shared volume).
    public var dataDirectory: String = "./intake-data"
    /// How blobs are laid out under `blobs/`.
    public var blobLayout: DirectoryBlobStore.Layout = .sharded
    /// Limits on each upload.
    public var limits: MultipartLimits = MultipartLimits()
    public var policy: TypePolicy = .knowledgeBase
    /// libmagic handles: as many uploads can be sniffed at once.
    public var snifferHandles: Int = 4
    /// Knowledge-base workers run by the node (0: none).
    public var workers: Int = 2
    /// How long a worker's claim holds before another worker may take the job.
    public var lease: Duration = .seconds(60)
    /// How workers cut extracted text into passages.
    public var chunker: Chunker = Chunker()
    /// The program workers extract each document's text with, in a child process held to
    /// ``extractionLimits`` (`intake` passes its own `extract` subcommand). nil: in this
    /// process, with the archive and time bounds only (for documents you trust, and tests).
    public var extractionHelper: ExtractionHelper? = nil
    /// Bounds on extracting one document.
    public var extractionLimits: ExtractionLimits = ExtractionLimits()
    /// This node's name, unique among the nodes on one store: its workers' leases and its
    /// `Idempotency-Key` claims carry it.
    public var name: String = ProcessInfo.processInfo.hostName
    public var logger: Logger = Logger(label: "intake")

    public init() {}
}
