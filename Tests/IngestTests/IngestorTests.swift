import Crypto
import Foundation
import Ingest
import IngestSQLite
import Multipart
import Testing

@Suite struct IngestorTests {
    func sha256(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    @Test(arguments: [
        ("sample.pdf", "application/pdf", "application/pdf"),
        ("sample.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("sample.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("sample.odt", "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.text"),
        ("sample.epub", "application/epub+zip", "application/epub+zip"),
        ("sample.html", "text/html", "text/html"),
        ("sample.csv", "text/csv", "text/csv"),
        ("sample.json", "application/json", "application/json"),
        ("sample.png", "image/png", "image/png"),
        ("sample.jpg", "image/jpeg", "image/jpeg"),
        ("sample.txt", "image/png", "text/plain"),
    ])
    func acceptedDocumentIsStoredDetectedAndQueued(_ name: String, _ declared: String, _ detected: String) async throws {
        let harness = try IngestHarness()
        defer { harness.remove() }
        let data = try DocumentFixtures.bytes(name)
        var body = UploadBody()
        body.field("title", "Sample \(name)")
        body.file("doc", filename: name, type: declared, data: data)
        let receipt = try await harness.ingest(body.finished(), contentType: body.contentType, chunkSize: 997)
        #expect(receipt.fields == [UploadField(name: "title", value: "Sample \(name)")])
        let document = try #require(receipt.documents.first)
        #expect(receipt.documents.count == 1)
        #expect(document.filename == name)
        #expect(document.declaredType == declared)
        #expect(document.detectedType == detected)
        #expect(document.size == data.count)
        #expect(document.sha256 == sha256(data))
        #expect(document.status == .queued)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: harness.store.path(of: document.sha256)))) == data)
        #expect(try await harness.catalog.job(documentID: document.id)?.state == .queued)
        #expect(harness.directory.files(under: "tmp").isEmpty)
    }

    static let proseWithCommas = Array(String(repeating: "Plain notes, UTF-8 ✓\n", count: 50).utf8)
    static let tableWithoutCommas = Array("name\nAda\nGrace\nEdsger\n".utf8)

    /// Within plain text the client's word decides; where the content decides, or outside plain
    /// text, the bytes do.
    @Test(
        arguments: [
            ("notes.txt", "text/plain", proseWithCommas, "text/plain"),
            ("notes.txt", "application/octet-stream", proseWithCommas, "text/plain"),  // by extension
            ("notes", nil, proseWithCommas, "text/csv"),  // nothing says otherwise: libmagic's guess stands
            ("names.csv", "text/csv", tableWithoutCommas, "text/csv"),
            ("notes.md", "text/markdown; charset=utf-8", proseWithCommas, "text/markdown"),
            ("page.txt", "text/plain", Array("<!DOCTYPE html><html><body><p>Hello</p></body></html>\n".utf8), "text/html"),
            ("photo.txt", "text/plain", try! DocumentFixtures.bytes("sample.png"), "image/png"),
        ] as [(String, String?, [UInt8], String)])
    func betweenKindsOfPlainTextTheDeclaredKindWins(_ name: String, _ declared: String?, _ data: [UInt8], _ detected: String) async throws {
        let harness = try IngestHarness()
        defer { harness.remove() }
        var body = UploadBody()
        body.file("doc", filename: name, type: declared, data: data)
        let receipt = try await harness.ingest(body.finished(), contentType: body.contentType)
        #expect(receipt.documents.first?.detectedType == detected)
    }

    @Test(arguments: [("sample.elf", "application/octet-stream"), ("sample.sh", "text/plain")])
    func executablesAndScriptsAreRefusedAndLeaveNothing(_ name: String, _ declared: String) async throws {
        let harness = try IngestHarness()
        defer { harness.remove() }
        var body = UploadBody()
        body.file("ok", filename: "fine.pdf", type: "application/pdf", data: try DocumentFixtures.bytes("sample.pdf"))
        body.file("bad", filename: name, type: declared, data: try DocumentFixtures.bytes(name))
        do {
            _ = try await harness.ingest(body.finished(), contentType: body.contentType)
            Issue.record("\(name) was accepted")
        } catch {
            guard case .typeRejected(let rejection) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(rejection.part == 1)
            #expect(rejection.fieldName == "bad")
            #expect(rejection.filename == name)
            #expect(rejection.declaredType == declared)
            #expect(TypePolicy.isExecutable(rejection.detectedType))
        }
        #expect(try await harness.isEmpty())
    }

    @Test func largeExecutableIsRefusedBeforeItsEndArrives() async throws {
        let harness = try IngestHarness()
        defer { harness.remove() }
        let elf = try DocumentFixtures.bytes("sample.elf") + [UInt8](repeating: 0, count: 1 << 20)
        var body = UploadBody()
        body.file("bad", filename: "tool", type: "application/pdf", data: elf)
        let bytes = body.finished()
        // The body stops after 100 KiB and then hangs: the refusal must come from the first 64 KiB.
        let broken = BrokenBody(chunks: [Array(bytes[0..<100_000])], ending: .hangs)
        do {
            _ = try await harness.ingestor.ingest(contentType: body.contentType, body: broken, knowledgeBase: "kb")
            Issue.record("accepted")
        } catch {
            guard case .typeRejected = error else {
                Issue.record("unexpected \(error)")
                return
            }
        }
        #expect(try await harness.isEmpty())
    }

    @Test func bodyCutAtRandomOffsetsLeavesNothing() async throws {
        var body = UploadBody()
        body.field("title", "cut")
        body.file("a", filename: "a.pdf", type: "application/pdf", data: try DocumentFixtures.bytes("sample.pdf"))
        body.file("b", filename: "b.docx", type: nil, data: try DocumentFixtures.bytes("sample.docx"))
        let bytes = body.finished()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let harness = try IngestHarness()
            defer { harness.remove() }
            let cut = Int.random(in: 0..<(bytes.count - 1), using: &generator)
            do {
                _ = try await harness.ingest(Array(bytes[0..<cut]), contentType: body.contentType, chunkSize: 1 + cut % 4096)
                Issue.record("a body cut at \(cut) was accepted")
            } catch {
                guard case .invalidBody(let parseError) = error, parseError.code == .truncatedBody else {
                    Issue.record("cut at \(cut): unexpected \(error)")
                    continue
                }
                #expect(parseError.offset == cut)
            }
            #expect(try await harness.isEmpty(), "cut at \(cut)")
        }
    }

    @Test func clientThatGoesAwayMidFileLeavesNothing() async throws {
        let harness = try IngestHarness()
        defer { harness.remove() }
        var body = UploadBody()
        body.file("a", filename: "a.pdf", type: "application/pdf", data: try DocumentFixtures.bytes("sample.docx"))
        let bytes = body.finished()
        let broken = BrokenBody(chunks: [Array(bytes[0..<20_000])], ending: .fails)
        do {
            _ = try await harness.ingestor.ingest(contentType: body.contentType, body: broken, knowledgeBase: "kb")
            Issue.record("accepted")
        } catch {
            guard case .bodyFailed = error else {
                Issue.record("unexpected \(error)")
                return
            }
        }
        #expect(try await harness.isEmpty())
    }

    @Test func cancellationMidUploadLeavesNothing() async throws {
        let harness = try IngestHarness()
        defer { harness.remove() }
        var body = UploadBody()
        body.file("a", filename: "a.docx", type: nil, data: try DocumentFixtures.bytes("sample.docx"))
        let bytes = body.finished()
        let ingestor = harness.ingestor
        let contentType = body.contentType
        let task = Task {
            try await ingestor.ingest(contentType: contentType, body: BrokenBody(chunks: [Array(bytes[0..<30_000])], ending: .hangs), knowledgeBase: "kb")
        }
        // Wait until the part's bytes are on disk, then cancel.
        while harness.directory.files(under: "tmp").isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        let result = await task.result
        guard case .failure(let error) = result, case .cancelled? = error as? IngestError else {
            Issue.record("unexpected \(result)")
            return
        }
        #expect(try await harness.isEmpty())
    }

    @Test func fileOverTheLimitIsRefusedAndLeavesNothing() async throws {
        var limits = MultipartLimits()
        limits.fileBytes = 1000
        let harness = try IngestHarness(limits: limits)
        defer { harness.remove() }
        var body = UploadBody()
        body.file("a", filename: "a.docx", type: nil, data: try DocumentFixtures.bytes("sample.docx"))
        do {
            _ = try await harness.ingest(body.finished(), contentType: body.contentType)
            Issue.record("accepted")
        } catch {
            guard case .invalidBody(let parseError) = error, parseError.code == .limitExceeded(.fileBytes) else {
                Issue.record("unexpected \(error)")
                return
            }
        }
        #expect(try await harness.isEmpty())
    }

    @Test func identicalContentIsStoredOnceForTwoDocuments() async throws {
        let harness = try IngestHarness()
        defer { harness.remove() }
        let pdf = try DocumentFixtures.bytes("sample.pdf")
        var first = UploadBody()
        first.file("a", filename: "one.pdf", type: "application/pdf", data: pdf)
        first.file("b", filename: "two.pdf", type: "application/pdf", data: pdf)
        let receipt = try await harness.ingest(first.finished(), contentType: first.contentType)
        var second = UploadBody()
        second.file("a", filename: "three.pdf", type: "application/pdf", data: pdf)
        let again = try await harness.ingest(second.finished(), contentType: second.contentType)
        #expect(Set((receipt.documents + again.documents).map(\.sha256)).count == 1)
        #expect(Set((receipt.documents + again.documents).map(\.id)).count == 3)
        #expect(harness.directory.files(under: "blobs").count == 1)
    }

    @Test func emptyOptionalFileInputIsNotADocument() async throws {
        let harness = try IngestHarness()
        defer { harness.remove() }
        var body = UploadBody()
        body.field("title", "no file")
        body.file("doc", filename: "", type: "application/octet-stream", data: [])
        let receipt = try await harness.ingest(body.finished(), contentType: body.contentType)
        #expect(receipt.documents.isEmpty)
        #expect(receipt.fields.count == 1)
        #expect(harness.directory.files(under: "tmp").isEmpty)
    }

    @Test func base64EncodedFilePartIsDecodedBeforeSniffingAndStoring() async throws {
        let harness = try IngestHarness()
        defer { harness.remove() }
        let png = try DocumentFixtures.bytes("sample.png")
        var writer = MultipartWriter()
        var bytes = writer.partHead(
            name: "img", filename: "x.png", contentType: "image/png",
            headers: [MultipartHeader(name: "Content-Transfer-Encoding", value: "base64")])
        bytes += Array(Data(png).base64EncodedString(options: .lineLength76Characters).utf8)
        bytes += writer.end()
        let receipt = try await harness.ingest(bytes, contentType: writer.contentType, chunkSize: 13)
        #expect(receipt.documents.first?.detectedType == "image/png")
        #expect(receipt.documents.first?.sha256 == sha256(png))
    }

    @Test func fiftyConcurrentUploadsAllLand() async throws {
        let harness = try IngestHarness()
        defer { harness.remove() }
        let pdf = try DocumentFixtures.bytes("sample.pdf")
        let ingestor = harness.ingestor
        let receipts = try await withThrowingTaskGroup(of: UploadReceipt.self) { group in
            for index in 0..<50 {
                group.addTask {
                    var body = UploadBody()
                    body.field("n", "\(index)")
                    // Distinct content per upload: the PDF with a comment appended after %%EOF.
                    body.file("doc", filename: "\(index).pdf", type: "application/pdf", data: pdf + Array("\n% \(index)\n".utf8))
                    return try await ingestor.ingest(contentType: body.contentType, body: Chunks(body.finished(), size: 700), knowledgeBase: "kb")
                }
            }
            var all: [UploadReceipt] = []
            for try await receipt in group { all.append(receipt) }
            return all
        }
        #expect(receipts.count == 50)
        #expect(Set(receipts.flatMap(\.documents).map(\.sha256)).count == 50)
        #expect(receipts.allSatisfy { $0.documents.first?.detectedType == "application/pdf" })
        #expect(harness.directory.files(under: "blobs").count == 50)
        #expect(harness.directory.files(under: "tmp").isEmpty)
        #expect(try await harness.catalog.events(after: 0, limit: 100).count == 50)
    }

    @Test func garbageCollectionRemovesOnlyUnreferencedBlobs() async throws {
        let harness = try IngestHarness()
        defer { harness.remove() }
        var body = UploadBody()
        body.file("a", filename: "a.pdf", type: nil, data: try DocumentFixtures.bytes("sample.pdf"))
        let receipt = try await harness.ingest(body.finished(), contentType: body.contentType)
        // A blob published by an upload that crashed before recording it.
        let orphan = try harness.store.makeWriter()
        try Array("orphan".utf8).withUnsafeBytes { try orphan.write($0) }
        let stored = try harness.store.commit(orphan)
        #expect(try await harness.ingestor.collectGarbage(gracePeriod: .seconds(3600)) == 0)  // too young
        #expect(try await harness.ingestor.collectGarbage(gracePeriod: .seconds(-1)) == 1)
        #expect(!harness.store.contains(stored.sha256))
        #expect(harness.store.contains(receipt.documents[0].sha256))
    }

    @Test func restartRemovesTemporaryFilesOfACrashedUpload() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try DirectoryBlobStore(root: directory.path)
        // What a process that died mid-upload leaves (its lock went with it).
        try Data("half an upload".utf8).write(to: URL(fileURLWithPath: directory.path + "/tmp/5eed-1.part"))
        #expect(directory.files(under: "tmp").count == 1)
        _ = try DirectoryBlobStore(root: directory.path)
        #expect(directory.files(under: "tmp").isEmpty)
    }

    @Test func aStoreOpenedBesideAnotherLeavesItsUploadsInFlightAlone() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Another process (`intake serve`, say) is writing an upload; its store holds tmp/.
        let serving = try DirectoryBlobStore(root: directory.path)
        let inFlight = try serving.makeWriter()
        try Array("an upload in flight".utf8).withUnsafeBytes { try inFlight.write($0) }
        // `intake ingest --data-dir` opens the same directory: it must not sweep.
        let second = try DirectoryBlobStore(root: directory.path)
        #expect(directory.files(under: "tmp").count == 1)
        let stored = try serving.commit(inFlight)
        #expect(second.contains(stored.sha256))
        #expect(directory.files(under: "tmp").isEmpty)
    }
}

@Suite struct IngestorDiskFullTests {
    /// Runs as root only (CI does): the data directory is a 512 KiB tmpfs, the upload 1 MiB.
    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func fullDiskFailsTheUploadAndLeavesNothing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try BlobStoreTests().run("/bin/mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", directory.path)
        defer { try? BlobStoreTests().run("/bin/umount", directory.path) }
        let store = try DirectoryBlobStore(root: directory.path)
        let catalog = try SQLiteStore(path: directory.path + "/intake.sqlite")
        let ingestor = Ingestor(store: store, sniffer: IngestHarness.sniffer, catalog: catalog)
        var body = UploadBody()
        body.file("big", filename: "big.txt", type: "text/plain", data: [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20))
        do {
            _ = try await ingestor.ingest(contentType: body.contentType, body: Chunks(body.finished(), size: 65536), knowledgeBase: "kb")
            Issue.record("1 MiB fit in 512 KiB")
        } catch {
            guard case .storage(let storageError) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(storageError.code == .diskFull)
        }
        #expect(directory.files(under: "tmp").isEmpty)
        #expect(directory.files(under: "blobs").isEmpty)
        #expect(try await catalog.referencedDigests().isEmpty)
    }
}

@Suite struct IngestorManyPartsTests {
    @Test func manySmallFilesKeepTheirOrderAndTypes() async throws {
        let harness = try IngestHarness()
        defer { harness.remove() }
        let samples = ["sample.pdf", "sample.png", "sample.txt", "sample.json", "sample.docx"]
        var body = UploadBody()
        for index in 0..<25 {
            let name = samples[index % samples.count]
            body.file("f\(index)", filename: "\(index)-\(name)", type: nil, data: try DocumentFixtures.bytes(name) + (name == "sample.txt" ? Array("\(index)\n".utf8) : []))
        }
        let receipt = try await harness.ingest(body.finished(), contentType: body.contentType, chunkSize: 4096)
        #expect(receipt.documents.map(\.fieldName) == (0..<25).map { "f\($0)" })
        let expected = ["application/pdf", "image/png", "text/plain", "application/json", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"]
        #expect(receipt.documents.map(\.detectedType) == (0..<25).map { expected[$0 % expected.count] })
    }

    @Test func aScriptAmongManySmallFilesRefusesTheUploadAndLeavesNothing() async throws {
        let harness = try IngestHarness()
        defer { harness.remove() }
        var body = UploadBody()
        for index in 0..<20 {
            let name = index == 14 ? "sample.sh" : "sample.txt"
            body.file("f\(index)", filename: "\(index).txt", type: "text/plain", data: try DocumentFixtures.bytes(name) + Array("\(index)\n".utf8))
        }
        do {
            _ = try await harness.ingest(body.finished(), contentType: body.contentType)
            Issue.record("accepted")
        } catch {
            guard case .typeRejected(let rejection) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(rejection.part == 14)
            #expect(rejection.fieldName == "f14")
        }
        #expect(try await harness.isEmpty())
    }
}
