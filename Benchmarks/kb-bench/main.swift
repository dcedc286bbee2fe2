// kb-bench DATA_DIR [PDF_DIR]
//
// Knowledge-base processing through the real stack (BlobStore, libmagic, SQLite FTS5, the
// built-in extractors, pdftotext), printing one line per measurement:
//   text    1,000 small text documents (1–3 KiB of prose each), processed by 2 workers: docs/s
//   pdf     every PDF in PDF_DIR (Benchmarks/kb-bench.sh makes 50 of 20 pages), 2 workers: docs/s
//   search  p50/p99 latency of 1,000 two-word queries over the index (>= 10,000 chunks)
// Uploads are ingested first, untimed; the clock runs from the first claim to an empty queue.
import Foundation
import Ingest
import IngestSQLite
import KnowledgeBase
import Logging
import Multipart

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: kb-bench DATA_DIR [PDF_DIR]\n".utf8))
    exit(2)
}
let dataDirectory = arguments[1]
let words =
    ("ingestion parser boundary chunk passage search ranking worker lease heartbeat queue document "
    + "knowledge base upload stream memory disk fsync rename digest index token overlap heading paragraph "
    + "sentence retrieval answer grounded owner content policy type sniff magic library server client").split(separator: " ").map(String.init)

struct Bench {
    let blobs: DirectoryBlobStore
    let store: SQLiteStore
    let ingestor: Ingestor

    init(directory: String) throws {
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        blobs = try DirectoryBlobStore(root: directory)
        store = try SQLiteStore(path: directory + "/intake.sqlite")
        var quiet = Logger(label: "kb-bench")
        quiet.logLevel = .warning
        ingestor = Ingestor(store: blobs, sniffer: try MagicSniffer(handles: 2), catalog: store, logger: quiet)
    }

    func upload(name: String, data: [UInt8]) async throws {
        var writer = MultipartWriter()
        let body = writer.fileHead(name: "doc", filename: name) + data + writer.end()
        _ = try await ingestor.ingest(contentType: writer.contentType, body: Chunk(bytes: body), knowledgeBase: "bench")
    }

    /// Runs 2 workers until the queue is empty; returns the seconds it took.
    func process() async throws -> Double {
        let start = ContinuousClock.now
        var logger = Logger(label: "kb-bench")
        logger.logLevel = .warning
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<2 {
                let worker = ProcessingWorker(name: "bench-\(index)", store: store, blobs: blobs, logger: logger)
                group.addTask { while try await worker.processNext() {} }
            }
            try await group.waitForAll()
        }
        return (ContinuousClock.now - start) / .seconds(1)
    }

    func count(_ status: DocumentStatus) async throws -> Int {
        var total = 0
        var cursor: String?
        repeat {
            let page = try await store.documents(DocumentQuery(status: status, limit: 1000, cursor: cursor))
            total += page.documents.count
            cursor = page.nextCursor
        } while cursor != nil
        return total
    }
}

/// One body as a one-chunk async sequence.
struct Chunk: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let bytes: [UInt8]
    struct Iterator: AsyncIteratorProtocol {
        var bytes: [UInt8]?
        mutating func next() async -> [UInt8]? { defer { bytes = nil }; return bytes }
    }
    func makeAsyncIterator() -> Iterator { Iterator(bytes: bytes) }
}

var generator = SystemRandomNumberGenerator()
/// 5,000 made-up words beside the common ones, drawn with a Zipf-like skew (word k about 1/k as
/// often as the first), so that, as in real prose, a few words are everywhere and most are rare.
let vocabulary: [String] = {
    var generator = SystemRandomNumberGenerator()
    let letters = Array("abcdefghijklmnopqrstuvwxyz")
    return words + (0..<5000).map { _ in String((0..<(4 + Int(generator.next() % 6))).map { _ in letters[Int(generator.next() % 26)] }) }
}()
func randomWord() -> String {
    var generator = SystemRandomNumberGenerator()
    // Inverse of a log-uniform draw: rank k with probability ~ 1/k.
    let rank = Int(exp(Double.random(in: 0..<log(Double(vocabulary.count)), using: &generator)))
    return vocabulary[min(rank, vocabulary.count - 1)]
}
func prose(_ characters: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    var text = ""
    while text.count < characters {
        let sentence = (0..<12).map { _ in randomWord() }.joined(separator: " ")
        text += sentence.prefix(1).uppercased() + sentence.dropFirst() + ". "
        if Int(generator.next() % 5) == 0 { text += "\n\n" }
    }
    return text
}

// 1. Small text documents.
let text = try Bench(directory: dataDirectory + "/text")
for index in 0..<1000 {
    try await text.upload(name: "note-\(index).txt", data: Array("Note \(index).\n\n\(prose(1024 + index % 2048))".utf8))
}
let textSeconds = try await text.process()
let textDone = try await text.count(.processed)
print(String(format: "text    %d documents processed by 2 workers in %.2f s = %.0f docs/s", textDone, textSeconds, Double(textDone) / textSeconds))

// 2. PDFs.
if arguments.count >= 3 {
    let pdf = try Bench(directory: dataDirectory + "/pdf")
    let names = try FileManager.default.contentsOfDirectory(atPath: arguments[2]).filter { $0.hasSuffix(".pdf") }.sorted()
    for name in names {
        try await pdf.upload(name: name, data: Array(try Data(contentsOf: URL(fileURLWithPath: arguments[2] + "/" + name))))
    }
    let seconds = try await pdf.process()
    let done = try await pdf.count(.processed)
    print(String(format: "pdf     %d of %d PDFs processed by 2 workers in %.2f s = %.1f docs/s", done, names.count, seconds, Double(done) / seconds))
}

// 3. Search latency over at least 10,000 chunks: the text documents, plus more until there are.
let search = try Bench(directory: dataDirectory + "/search")
for index in 0..<2500 {
    // ~4 passages each at the default passage size.
    try await search.upload(name: "doc-\(index).txt", data: Array(prose(12_000 + index % 1000).utf8))
}
_ = try await search.process()
var chunkCount = 0
var cursor: String?
repeat {
    let page = try await search.store.documents(DocumentQuery(limit: 1000, cursor: cursor))
    for document in page.documents { chunkCount += try await search.store.chunks(documentID: document.id).count }
    cursor = page.nextCursor
} while cursor != nil
var latencies: [Double] = []
for _ in 0..<1000 {
    let query = "\(randomWord()) \(randomWord())"
    let start = ContinuousClock.now
    _ = try await search.store.search(SearchQuery(text: query, knowledgeBase: "bench", limit: 10))
    latencies.append((ContinuousClock.now - start) / .milliseconds(1))
}
latencies.sort()
print(
    String(
        format: "search  %d chunks, 1,000 two-word queries (top 10): p50 %.2f ms, p99 %.2f ms",
        chunkCount, latencies[499], latencies[989]))
