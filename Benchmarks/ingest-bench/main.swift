// ingest-bench DATA_DIR (big|many)
//
// Ingests one body into a fresh data directory through the real stack (BlobStore, libmagic,
// SQLite) from an in-memory chunk source, and prints one JSON line with the throughput and the
// peak RSS growth:
//   big   one file of 1 GiB
//   many  2,000 files of 16 KiB
// The source makes its 64 KiB chunks from a 1 MiB block of random text, so the body itself
// never sits in memory. Run it through Benchmarks/ingest-bench.sh, which runs dd first.
import Foundation
import Ingest
import IngestSQLite
import Multipart

/// A multipart body produced chunk by chunk: part heads from a MultipartWriter, data from a
/// repeating block of random text (with each file's index mixed in, so no two files are equal).
struct GeneratedBody: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let files: Int
    let fileSize: Int
    let chunkSize = 64 * 1024
    let writer = MultipartWriter()
    static let block: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz      \n".utf8)
        return (0..<(1 << 20)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
    }()

    var totalBytes: Int {
        var writer = self.writer
        var total = 0
        for index in 0..<files { total += writer.fileHead(name: "f\(index)", filename: "\(index).txt", contentType: "text/plain").count + fileSize }
        return total + writer.end().count
    }

    struct Iterator: AsyncIteratorProtocol {
        let body: GeneratedBody
        var writer: MultipartWriter
        var file = 0
        var written = 0  // bytes of the current file so far
        var inFile = false
        var done = false

        mutating func next() async -> [UInt8]? {
            if done { return nil }
            if !inFile {
                if file == body.files {
                    done = true
                    return writer.end()
                }
                inFile = true
                written = 0
                return writer.fileHead(name: "f\(file)", filename: "\(file).txt", contentType: "text/plain")
            }
            let size = Swift.min(body.chunkSize, body.fileSize - written)
            let start = (written + file * 4099) % (GeneratedBody.block.count - size)
            var chunk = Array(GeneratedBody.block[start..<start + size])
            if written == 0 {
                let tag = Array(String(format: "%08d", file).utf8).prefix(size)
                chunk.replaceSubrange(0..<tag.count, with: tag)
            }
            written += size
            if written == body.fileSize {
                inFile = false
                file += 1
            }
            return chunk
        }
    }

    func makeAsyncIterator() -> Iterator { Iterator(body: self, writer: writer) }
}

func residentBytes() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}

let arguments = CommandLine.arguments
guard arguments.count == 3, ["big", "many"].contains(arguments[2]) else {
    print("usage: ingest-bench DATA_DIR (big|many)")
    exit(2)
}
let body = arguments[2] == "big" ? GeneratedBody(files: 1, fileSize: 1 << 30) : GeneratedBody(files: 2000, fileSize: 16 * 1024)
var limits = MultipartLimits()
limits.parts = 10_000

do {
    let store = try DirectoryBlobStore(root: arguments[1])
    let catalog = try SQLiteStore(path: arguments[1] + "/intake.sqlite")
    let ingestor = Ingestor(store: store, sniffer: try MagicSniffer(handles: 1), catalog: catalog, limits: limits)
    _ = GeneratedBody.block
    let baseline = residentBytes()
    let clock = ContinuousClock()
    let start = clock.now
    let receipt = try await ingestor.ingest(contentType: body.writer.contentType, body: body, knowledgeBase: "bench")
    let elapsed = clock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let bytes = body.totalBytes
    let growth = max(0, peakResidentBytes() - baseline)
    print(
        "{\"scenario\":\"\(arguments[2])\",\"documents\":\(receipt.documents.count),\"bytes\":\(bytes),\"seconds\":\(seconds),\"mb_per_s\":\(Double(bytes) / 1e6 / seconds),\"peak_rss_growth_mib\":\(Double(growth) / 1048576)}"
    )
} catch {
    print("ingest-bench: \(error)")
    exit(1)
}
