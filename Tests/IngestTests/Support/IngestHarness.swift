import Foundation
import Ingest
import IngestSQLite
import Multipart

/// A real ingestion stack in a temporary data directory: blob store, libmagic, SQLite.
struct IngestHarness {
    static let sniffer = try! MagicSniffer(handles: 4)

    let directory: TemporaryDirectory
    let store: DirectoryBlobStore
    let catalog: SQLiteStore
    var ingestor: Ingestor

    init(limits: MultipartLimits = MultipartLimits()) throws {
        directory = try TemporaryDirectory("intake-ingest")
        store = try DirectoryBlobStore(root: directory.path)
        catalog = try SQLiteStore(path: directory.path + "/intake.sqlite")
        ingestor = Ingestor(store: store, sniffer: Self.sniffer, catalog: catalog, limits: limits)
    }

    func ingest(_ body: [UInt8], contentType: String, chunkSize: Int = 8192) async throws(IngestError) -> UploadReceipt {
        try await ingestor.ingest(contentType: contentType, body: Chunks(body, size: chunkSize), knowledgeBase: "kb")
    }

    /// Whether the data directory holds no upload at all: no temporary file, no blob, no row.
    func isEmpty() async throws -> Bool {
        let noRows = try await catalog.referencedDigests().isEmpty
        let noEvents = try await catalog.events(after: 0, limit: 1).isEmpty
        return directory.files(under: "tmp").isEmpty && directory.files(under: "blobs").isEmpty && noRows && noEvents
    }

    func remove() { directory.remove() }
}

/// A body as an async sequence of fixed-size chunks.
struct Chunks: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let body: [UInt8]
    let size: Int

    init(_ body: [UInt8], size: Int) {
        self.body = body
        self.size = size
    }

    struct Iterator: AsyncIteratorProtocol {
        let body: [UInt8]
        let size: Int
        var offset = 0
        mutating func next() async throws -> [UInt8]? {
            guard offset < body.count else { return nil }
            let end = Swift.min(offset + size, body.count)
            defer { offset = end }
            return Array(body[offset..<end])
        }
    }

    func makeAsyncIterator() -> Iterator { Iterator(body: body, size: size) }
}

/// A body that yields its chunks, then fails or never ends, as a client that goes away does.
struct BrokenBody: AsyncSequence, Sendable {
    enum Ending: Sendable { case fails, hangs }
    typealias Element = [UInt8]
    struct ClientWentAway: Error {}

    let chunks: [[UInt8]]
    let ending: Ending

    struct Iterator: AsyncIteratorProtocol {
        var remaining: ArraySlice<[UInt8]>
        let ending: Ending
        mutating func next() async throws -> [UInt8]? {
            if let chunk = remaining.popFirst() { return chunk }
            switch ending {
            case .fails: throw ClientWentAway()
            case .hangs:
                try await Task.sleep(for: .seconds(3600))
                return nil
            }
        }
    }

    func makeAsyncIterator() -> Iterator { Iterator(remaining: chunks[...], ending: ending) }
}

/// Builds an upload body from fixture documents and fields.
struct UploadBody {
    var writer = MultipartWriter()
    var bytes: [UInt8] = []

    var contentType: String { writer.contentType }

    mutating func field(_ name: String, _ value: String) {
        bytes += writer.field(name: name, value: value)
    }

    mutating func file(_ name: String, filename: String, type: String?, data: [UInt8]) {
        bytes += writer.partHead(name: name, filename: filename, contentType: type)
        bytes += data
    }

    mutating func finished() -> [UInt8] {
        bytes += writer.end()
        return bytes
    }
}
