import Foundation
import Ingest
import IngestSQLite
import IntakeTesting
import KnowledgeBase
import Logging
import Multipart
import Testing

/// A data directory with the real upload pipeline (blob store, libmagic, SQLite) and workers.
struct Pipeline {
    static let sniffer = try! MagicSniffer(handles: 2)
    let directory: String
    let blobs: DirectoryBlobStore
    let store: SQLiteStore
    let ingestor: Ingestor
    /// The time of the store's leases and backoff, and of the workers' waits.
    let clock = TestClock()

    init(retry: RetryPolicy = RetryPolicy()) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-worker-\(UUID().uuidString)").path
        blobs = try DirectoryBlobStore(root: directory)
        store = try SQLiteStore(path: directory + "/intake.sqlite", clock: clock.dates, retry: retry, jitter: { 0 })
        ingestor = Ingestor(store: blobs, sniffer: Self.sniffer, catalog: store)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// Uploads the fixture `name` as one file part; returns its document id.
    func upload(_ name: String) async throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try await upload(name, data: try [UInt8](Data(contentsOf: root.appendingPathComponent("Fixtures/documents/\(name)"))))
    }

    /// Uploads `data` as a file part named `name`; returns its document id.
    func upload(_ name: String, data: [UInt8]) async throws -> String {
        var writer = MultipartWriter()
        let body = writer.fileHead(name: "doc", filename: name) + data + writer.end()
        let receipt = try await ingestor.ingest(contentType: writer.contentType, body: [body].async, knowledgeBase: "kb")
        return receipt.documents[0].id
    }

    func worker(_ name: String, registry: ProcessorRegistry = .builtIn, lease: Duration = .seconds(60)) -> ProcessingWorker {
        var worker = ProcessingWorker(name: name, store: store, blobs: blobs, registry: registry, logger: Logger(label: "test"))
        worker.lease = lease
        worker.idleWait = .seconds(1)
        worker.clock = clock
        return worker
    }
}

extension Array where Element == [UInt8] {
    /// The array as an async sequence of chunks.
    var async: AsyncStream<[UInt8]> {
        AsyncStream { continuation in
            for chunk in self { continuation.yield(chunk) }
            continuation.finish()
        }
    }
}

/// Fails every document it is given, as a broken converter would.
struct PoisonProcessor: DocumentProcessor {
    func handles(detectedType: String) -> Bool { true }
    func extract(_ document: ProcessingInput) async throws -> ExtractedText {
        throw ProcessingError("the converter crashed on \(document.record.filename ?? "?")")
    }
}

@Suite("ProcessingWorker")
struct ProcessingWorkerTests {
    @Test func anUploadedDocumentBecomesSearchablePassages() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let id = try await pipeline.upload("sample.md")
        #expect(try await pipeline.worker("w1").processNext())
        #expect(try await pipeline.worker("w1").processNext() == false)  // nothing left
        let document = try #require(try await pipeline.store.document(id: id))
        #expect(document.status == .processed)
        #expect(document.note == nil)
        let chunks = try await pipeline.store.chunks(documentID: id)
        #expect(
            chunks.map(\.text) == [
                "# Setup guide\n\nInstall the service, then start it with one command.",
                "## Troubleshooting\n\nIf the port is taken, choose another with --port.",
            ]
                || chunks.count == 1)
        let hits = try await pipeline.store.search(SearchQuery(text: "port taken"))
        #expect(hits.first?.documentID == id)
        let states = try await pipeline.store.events(after: 0, limit: 10).map(\.state)
        #expect(states == [.queued, .processing, .processed])
    }

    @Test(.enabled(if: pdftotextIsInstalled))
    func aPDFsPassagesArePageByPageAndSayTheirPage() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let id = try await pipeline.upload("multipage.pdf")
        #expect(try await pipeline.worker("w1").processNext())
        let chunks = try await pipeline.store.chunks(documentID: id)
        #expect(chunks.map(\.page) == [1, 2, 3])
        #expect(chunks.map(\.source) == [nil, nil, nil])
        #expect(
            chunks.map(\.text) == [
                "Page 1. The first page introduces ingestion.", "Page 2. The second page covers chunking.",
                "Page 3. The third page explains search ranking.",
            ])
        #expect(try await pipeline.store.search(SearchQuery(text: "search ranking")).first?.page == 3)
    }

    @Test func anImageWithoutTextIsProcessedWithNoPassagesAndANoteOrFailsNamingTesseract() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let id = try await pipeline.upload("sample.png")
        #expect(try await pipeline.worker("w1").processNext())
        let document = try #require(try await pipeline.store.document(id: id))
        if isInstalled("tesseract") {
            #expect(document.status == .processed)
            #expect(document.note == "OCR found no text in the image")
        } else {
            #expect(document.error?.contains("apt-get install tesseract-ocr") == true, "\(document.error ?? "")")
        }
        #expect(try await pipeline.store.chunks(documentID: id).isEmpty)
    }

    @Test func aPoisonDocumentIsRetriedThenDeadWithItsError() async throws {
        let pipeline = try Pipeline(retry: RetryPolicy(maximumAttempts: 3, baseDelay: .milliseconds(1), maximumDelay: .milliseconds(1)))
        defer { pipeline.remove() }
        let id = try await pipeline.upload("sample.txt")
        let worker = pipeline.worker("w1", registry: ProcessorRegistry(processors: [PoisonProcessor()]))
        for attempt in 1...3 {
            #expect(try await worker.processNext(), "attempt \(attempt)")
            #expect(try await worker.processNext() == false, "attempt \(attempt) waits out its backoff")
            pipeline.clock.advance(by: .seconds(1))  // past the backoff
        }
        #expect(try await worker.processNext() == false)  // dead: never claimed again
        let document = try #require(try await pipeline.store.document(id: id))
        #expect(document.status == .dead)
        #expect(document.error == "the converter crashed on sample.txt")
        #expect(try await pipeline.store.job(documentID: id)?.attempts == 3)
        let states = try await pipeline.store.events(after: 0, limit: 20).map(\.state)
        #expect(states == [.queued, .processing, .failed, .processing, .failed, .processing, .dead])
    }

    @Test(.timeLimit(.minutes(1))) func aJobWhoseWorkerDiedIsFinishedByAnotherWhenItsLeaseRunsOut() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let id = try await pipeline.upload("sample.txt")
        // Worker A claims the job and dies without a word.
        _ = try #require(try await pipeline.store.claim(worker: "dead-worker", lease: .seconds(60)))
        #expect(try await pipeline.worker("w2").processNext() == false)  // held by the lease
        pipeline.clock.advance(by: .seconds(61))  // the lease runs out
        let survivor = Task { await pipeline.worker("w2").run() }
        defer { survivor.cancel() }
        // w2 reaps the lease and processes the job (the status is polled: no deadline is waited for).
        while try await pipeline.store.document(id: id)?.status != .processed { await Task.yield() }
        #expect(try await pipeline.store.job(documentID: id)?.attempts == 2)
    }

    @Test func onlyTheFirstMegabytesOfAHugeTextAreReadAndIndexedWithANoteSayingSo() async throws {
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let line = Array("A line of a very long log file, repeated many times over.\n".utf8)
        let id = try await pipeline.upload("huge.log", data: Array((0..<10_000).map { _ in line }.joined()))
        var worker = pipeline.worker("w1")
        worker.maximumTextBytes = 100_000
        #expect(try await worker.processNext())
        let document = try #require(try await pipeline.store.document(id: id))
        #expect(document.status == .processed)
        #expect(document.note == "only the first 100000 bytes of text were indexed")
        let chunks = try await pipeline.store.chunks(documentID: id)
        #expect(chunks.first?.start == 0)
        #expect(try #require(chunks.last).end <= 100_000)
    }

    @Test func aLongJobKeepsItsLeaseByHeartbeats() async throws {
        /// Works until the test opens the gate.
        struct GatedProcessor: DocumentProcessor {
            let started: AsyncStream<Void>.Continuation
            let gate: AsyncStream<Void>
            func handles(detectedType: String) -> Bool { true }
            func extract(_ document: ProcessingInput) async throws -> ExtractedText {
                started.yield()
                for await _ in gate { break }
                return ExtractedText(text: "slow but done")
            }
        }
        let pipeline = try Pipeline()
        defer { pipeline.remove() }
        let id = try await pipeline.upload("sample.txt")
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let (gate, gateContinuation) = AsyncStream<Void>.makeStream()
        // The lease is 60 s and heartbeats come every 20 s; the work takes 65 s of the test's clock.
        let slow = pipeline.worker("slow", registry: ProcessorRegistry(processors: [GatedProcessor(started: startedContinuation, gate: gate)]))
        let work = Task { try await slow.processNext() }
        for await _ in started { break }
        for step in [20, 20, 25] {
            await pipeline.clock.waitForSleepers()  // the heartbeat waits for its time
            pipeline.clock.advance(by: .seconds(step))
        }
        await pipeline.clock.waitForSleepers()  // the last heartbeat was written
        // 65 s after the claim: without heartbeats the 60 s lease would have run out.
        #expect(try await pipeline.store.reapExpiredLeases() == 0)
        gateContinuation.yield()
        #expect(try await work.value)
        #expect(try await pipeline.store.document(id: id)?.status == .processed)
        #expect(try await pipeline.store.job(documentID: id)?.attempts == 1)
    }
}
