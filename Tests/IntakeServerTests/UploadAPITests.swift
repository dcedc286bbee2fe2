import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Ingest
import IngestSQLite
import IntakeServer
import Multipart
import Testing

/// A service on a fresh data directory, served on a real socket.
struct LiveService {
    let directory: String
    let service: IntakeService

    /// - Parameter databasePath: the SQLite file; nil: `intake.sqlite` in the data directory.
    init(
        limits: MultipartLimits = MultipartLimits(), directory existing: String? = nil, databasePath: String? = nil,
        configure: (inout ServerConfiguration) throws -> Void = { _ in }
    ) throws {
        directory = existing ?? FileManager.default.temporaryDirectory.appendingPathComponent("intake-server-\(UUID().uuidString)").path
        var configuration = ServerConfiguration()
        configuration.dataDirectory = directory
        configuration.port = 0
        configuration.limits = limits
        configuration.snifferHandles = 2
        try configure(&configuration)
        // The store keeps the server's time (a test's clock, when it sets one).
        let clock = configuration.clock
        service = try IntakeService(configuration: configuration) { directory in
            try SQLiteStore(path: databasePath ?? directory + "/intake.sqlite", clock: clock)
        }
    }

    /// Serves on a real socket for `body`, then removes the data directory unless `keepData`
    /// (for a test that needs a second connection, after one the server closed).
    func test<Value>(keepData: Bool = false, _ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        defer { if !keepData { try? FileManager.default.removeItem(atPath: directory) } }
        // The service's own application: its channel handlers (Expect: 100-continue, closing
        // after a refused body) and timeouts, on the configured address (127.0.0.1, port 0).
        return try await service.application().test(.live, body)
    }

    func files(under relative: String) -> [String] {
        (FileManager.default.enumerator(atPath: directory + "/" + relative)?.allObjects as? [String] ?? []).filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: directory + "/" + relative + "/" + $0, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }
}

func fixture(_ name: String) throws -> [UInt8] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/documents/\(name)")
    return try [UInt8](Data(contentsOf: url))
}

func json(_ response: TestResponse) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as! [String: Any]
}

/// A multipart body with one field and one file.
func uploadBody(file name: String, type: String?, data: [UInt8], field: (String, String)? = ("title", "T")) -> (ByteBuffer, String) {
    var writer = MultipartWriter()
    var bytes: [UInt8] = []
    if let field { bytes += writer.field(name: field.0, value: field.1) }
    bytes += writer.partHead(name: "doc", filename: name, contentType: type)
    bytes += data
    bytes += writer.end()
    return (ByteBuffer(bytes: bytes), writer.contentType)
}

@Suite struct UploadAPITests {
    @Test func uploadIsCreatedDurableAndReadableBack() async throws {
        let live = try LiveService()
        let pdf = try fixture("sample.pdf")
        try await live.test { client in
            let (body, contentType) = uploadBody(file: "handbook.pdf", type: "application/pdf", data: pdf)
            let created = try await client.execute(uri: "/uploads?knowledge_base=manuals", method: .post, headers: [.contentType: contentType], body: body)
            #expect(created.status == .created)
            let upload = try json(created)
            let id = try #require(upload["id"] as? String)
            #expect(created.headers[.location] == "/uploads/\(id)")
            #expect(upload["knowledge_base"] as? String == "manuals")
            #expect((upload["fields"] as? [String: [String]])?["title"] == ["T"])
            let document = try #require((upload["documents"] as? [[String: Any]])?.first)
            #expect(document["filename"] as? String == "handbook.pdf")
            #expect(document["detected_type"] as? String == "application/pdf")
            #expect(document["declared_type"] as? String == "application/pdf")
            #expect(document["status"] as? String == "queued")
            #expect(document["size"] as? Int == pdf.count)
            let documentID = try #require(document["id"] as? String)

            let again = try await client.execute(uri: "/uploads/\(id)", method: .get)
            #expect(again.status == .ok)
            let fetched = try json(again)
            #expect(fetched["id"] as? String == id)

            let detail = try json(try await client.execute(uri: "/documents/\(documentID)", method: .get))
            #expect(detail["attempts"] as? Int == 0)
            #expect(detail.keys.contains("error"))

            let content = try await client.execute(uri: "/documents/\(documentID)/content", method: .get)
            #expect(content.status == .ok)
            #expect(Array(buffer: content.body) == pdf)
            #expect(content.headers[.contentType] == "application/pdf")
            #expect(content.headers[.contentDisposition] == "attachment; filename=\"handbook.pdf\"; filename*=UTF-8''handbook.pdf")
            #expect(content.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(content.headers[.acceptRanges] == "bytes")

            let part = try await client.execute(uri: "/documents/\(documentID)/content", method: .get, headers: [.range: "bytes=4-11"])
            #expect(part.status == .partialContent)
            #expect(Array(buffer: part.body) == Array(pdf[4..<12]))
            #expect(part.headers[.contentRange] == "bytes 4-11/\(pdf.count)")
            #expect(part.headers[.contentLength] == "8")
            let tail = try await client.execute(uri: "/documents/\(documentID)/content", method: .get, headers: [.range: "bytes=-5"])
            #expect(Array(buffer: tail.body) == Array(pdf.suffix(5)))
            let past = try await client.execute(uri: "/documents/\(documentID)/content", method: .get, headers: [.range: "bytes=\(pdf.count)-"])
            #expect(past.status == .rangeNotSatisfiable)
            #expect(past.headers[.contentRange] == "bytes */\(pdf.count)")
        }
    }

    @Test func executableIsRefusedWith415AndNothingRemains() async throws {
        let live = try LiveService()
        let elf = try fixture("sample.elf")
        try await live.test { client in
            let (body, contentType) = uploadBody(file: "tool", type: "application/pdf", data: elf)
            let response = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body)
            #expect(response.status == .unsupportedMediaType)
            let error = try #require(try json(response)["error"] as? [String: String])
            #expect(error["code"] == "type_rejected")
            #expect(error["message"]?.contains("application/pdf") == true)
            // The connection is closed after a refusal (the rest of the body is not read).
            #expect(response.headers[.connection] == "close")
            #expect(try await live.service.database.documents(DocumentQuery()).documents.isEmpty)
            #expect(live.files(under: "tmp").isEmpty)
            #expect(live.files(under: "blobs").isEmpty)
        }
    }

    @Test func truncatedBodyIs400WithTheOffset() async throws {
        let live = try LiveService()
        try await live.test { client in
            var (body, contentType) = uploadBody(file: "a.txt", type: "text/plain", data: Array("hello".utf8))
            body.moveWriterIndex(to: body.writerIndex - 10)
            let response = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body)
            #expect(response.status == .badRequest)
            let error = try #require(try json(response)["error"] as? [String: String])
            #expect(error["code"] == "invalid_body")
            #expect(error["message"]?.contains("truncatedBody, at byte \(body.readableBytes)") == true)
            #expect(live.files(under: "tmp").isEmpty)
        }
    }

    @Test func bodyOverTheLimitIs413BeforeReadingWhenContentLengthSaysSo() async throws {
        var limits = MultipartLimits()
        limits.bodyBytes = 1000
        let live = try LiveService(limits: limits)
        try await live.test { client in
            let (body, contentType) = uploadBody(file: "a.txt", type: "text/plain", data: [UInt8](repeating: 0x61, count: 5000))
            let response = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType, .contentLength: String(body.readableBytes)], body: body)
            #expect(response.status == .contentTooLarge)
            let error = try json(response)["error"] as? [String: String]
            #expect(error?["code"] == "limit_exceeded")
        }
    }

    @Test func fileOverTheLimitIs413() async throws {
        var limits = MultipartLimits()
        limits.fileBytes = 100
        let live = try LiveService(limits: limits)
        try await live.test { client in
            let (body, contentType) = uploadBody(file: "a.txt", type: "text/plain", data: [UInt8](repeating: 0x61, count: 5000))
            let response = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body)
            #expect(response.status == .contentTooLarge)
            #expect(live.files(under: "tmp").isEmpty)
        }
    }

    @Test func fieldsOverTheDefaultLimitOnAllFieldsTogetherAre413AndLeaveNothing() async throws {
        let live = try LiveService()  // the defaults: 1 MiB per field and 1 MiB for all fields together
        try await live.test { client in
            var writer = MultipartWriter()
            let value = String(repeating: "v", count: 600_000)
            let bytes =
                writer.field(name: "one", value: value) + writer.field(name: "two", value: value)
                + writer.fileHead(name: "doc", filename: "a.txt") + Array("text".utf8) + writer.end()
            let response = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: writer.contentType], body: ByteBuffer(bytes: bytes))
            #expect(response.status == .contentTooLarge)
            let error = try json(response)["error"] as? [String: String]
            #expect(error?["code"] == "limit_exceeded")
            #expect(error?["message"]?.contains("fieldsBytes = 1048576") == true)
            #expect(live.files(under: "tmp").isEmpty)
        }
    }

    @Test func aNULInAFilenameOrAFieldIsRefusedWith400NotCutWhenStored() async throws {
        let live = try LiveService()
        defer { try? FileManager.default.removeItem(atPath: live.directory) }
        let boundary = "nul-test-boundary"
        let bodies = [
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"report\u{0}.exe.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--\(boundary)--\r\n",
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nbefore\u{0}after\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\r\nhello\r\n--\(boundary)--\r\n",
        ]
        for body in bodies {  // each on a connection of its own: a refused body closes it
            try await live.test(keepData: true) { client in
                let response = try await client.execute(
                    uri: "/uploads", method: .post, headers: [.contentType: "multipart/form-data; boundary=\(boundary)"], body: ByteBuffer(string: body))
                #expect(response.status == .badRequest)
                let error = try json(response)["error"] as? [String: String]
                #expect(error?["message"]?.contains("NUL") == true, "\(error ?? [:])")
            }
            #expect(live.files(under: "tmp").isEmpty && live.files(under: "blobs").isEmpty)
        }
        #expect(try await live.service.database.documents(DocumentQuery()).documents.isEmpty)
    }

    @Test func theDefaultLimitsOnFilesAndBodiesAreFinite() {
        #expect(MultipartLimits().fileBytes == 1 << 30)
        #expect(MultipartLimits().bodyBytes == 2 << 30)
    }

    @Test func nonMultipartBodyIs415() async throws {
        let live = try LiveService()
        try await live.test { client in
            let response = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}"))
            #expect(response.status == .unsupportedMediaType)
            let error = try json(response)["error"] as? [String: String]
            #expect(error?["code"] == "not_multipart")
        }
    }

    @Test func unknownIdsAre404() async throws {
        let live = try LiveService()
        try await live.test { client in
            let response1 = try await client.execute(uri: "/uploads/nope", method: .get)
            #expect(response1.status == .notFound)
            let response2 = try await client.execute(uri: "/documents/nope", method: .get)
            #expect(response2.status == .notFound)
            let response3 = try await client.execute(uri: "/documents/nope/content", method: .get)
            #expect(response3.status == .notFound)
        }
    }

    @Test func documentsArePagedAndFiltered() async throws {
        let live = try LiveService()
        let pdf = try fixture("sample.pdf")
        try await live.test { client in
            var digests: [String] = []
            for index in 0..<5 {
                let (body, contentType) = uploadBody(file: "\(index).pdf", type: nil, data: pdf + Array("\n% \(index)\n".utf8))
                let created = try json(try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body))
                digests.append(((created["documents"] as! [[String: Any]])[0]["sha256"] as! String))
            }
            var seen: [String] = []
            var cursor: String? = nil
            repeat {
                let uri = "/documents?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try json(try await client.execute(uri: uri, method: .get))
                seen += (page["documents"] as! [[String: Any]]).map { $0["filename"] as! String }
                cursor = page["next_cursor"] as? String
            } while cursor != nil
            #expect(seen == ["0.pdf", "1.pdf", "2.pdf", "3.pdf", "4.pdf"])
            let bySHA = try json(try await client.execute(uri: "/documents?sha256=\(digests[3])", method: .get))
            #expect((bySHA["documents"] as! [[String: Any]]).map { $0["filename"] as! String } == ["3.pdf"])
            let response4 = try await client.execute(uri: "/documents?status=bogus", method: .get)
            #expect(response4.status == .badRequest)
            let response5 = try await client.execute(uri: "/documents?cursor=zzz", method: .get)
            #expect(response5.status == .badRequest)
        }
    }

    @Test func utf8FilenameComesBackAsFilenameStar() async throws {
        let live = try LiveService()
        try await live.test { client in
            let (body, contentType) = uploadBody(file: "résumé \"final\".txt", type: "text/plain", data: Array("text".utf8))
            let created = try json(try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body))
            let id = ((created["documents"] as! [[String: Any]])[0]["id"] as! String)
            let content = try await client.execute(uri: "/documents/\(id)/content", method: .get)
            #expect(content.headers[.contentDisposition] == "attachment; filename=\"r_sum_ %22final%22.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%2522final%2522.txt")
        }
    }

    @Test func healthzAnswers() async throws {
        let live = try LiveService()
        try await live.test { client in
            let response6 = try await client.execute(uri: "/healthz", method: .get)
            #expect(response6.status == .ok)
        }
    }
}

@Suite struct DocumentLifecycleAPITests {
    @Test func reprocessRequeuesAndDeleteRemoves() async throws {
        let live = try LiveService()
        let pdf = try fixture("sample.pdf")
        try await live.test { client in
            let (body, contentType) = uploadBody(file: "a.pdf", type: nil, data: pdf)
            let created = try json(try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body))
            let id = (created["documents"] as! [[String: Any]])[0]["id"] as! String

            let job = try #require(try await live.service.database.claim(worker: "w", lease: .seconds(30)))
            let busy = try await client.execute(uri: "/documents/\(id)/reprocess", method: .post)
            #expect(busy.status == .conflict)
            try await live.service.database.complete(job)
            let requeued = try await client.execute(uri: "/documents/\(id)/reprocess", method: .post)
            #expect(requeued.status == .accepted)
            let document = try json(requeued)
            #expect(document["status"] as? String == "queued")

            let deleted = try await client.execute(uri: "/documents/\(id)", method: .delete)
            #expect(deleted.status == .noContent)
            let gone = try await client.execute(uri: "/documents/\(id)", method: .get)
            #expect(gone.status == .notFound)
            let again = try await client.execute(uri: "/documents/\(id)", method: .delete)
            #expect(again.status == .notFound)
        }
    }

    @Test func deletingTheLastDocumentWithSomeContentRemovesItsBytesAndNotBefore() async throws {
        let live = try LiveService()
        try await live.test { client in
            var ids: [String] = []
            for _ in 0..<2 {  // the same content twice: one blob
                let (body, contentType) = uploadBody(file: "same.txt", type: "text/plain", data: try fixture("sample.txt"))
                let created = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body)
                ids.append(try #require(((try json(created))["documents"] as? [[String: Any]])?.first?["id"] as? String))
            }
            #expect(live.files(under: "blobs").count == 1)
            #expect(try await client.execute(uri: "/documents/\(ids[0])", method: .delete).status == .noContent)
            #expect(live.files(under: "blobs").count == 1, "the other document still has the bytes")
            #expect(try await client.execute(uri: "/documents/\(ids[1])/content", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/documents/\(ids[1])", method: .delete).status == .noContent)
            #expect(live.files(under: "blobs").isEmpty)
        }
    }

    /// Runs as root only (CI does): the database is on a full 1 MiB tmpfs, the data directory not.
    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func aFullDatabaseDiskIs507AndLeavesNoBlob() async throws {
        let databaseDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-dbfull-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: databaseDirectory, withIntermediateDirectories: true)
        try DiskFullAPITests().run("/bin/mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", databaseDirectory)
        defer {
            DiskFullAPITests().unmount(databaseDirectory)
            try? FileManager.default.removeItem(atPath: databaseDirectory)
        }
        let live = try LiveService(databasePath: databaseDirectory + "/intake.sqlite")
        defer { try? FileManager.default.removeItem(atPath: live.directory) }
        // Fill what the schema left of the tmpfs.
        let filler = FileManager.default.createFile(atPath: databaseDirectory + "/filler", contents: nil)
        #expect(filler)
        if let handle = FileHandle(forWritingAtPath: databaseDirectory + "/filler") {
            while (try? handle.write(contentsOf: Data(repeating: 0, count: 4096))) != nil {}
            try? handle.close()
        }
        try await live.test(keepData: true) { client in
            let (body, contentType) = uploadBody(file: "notes.txt", type: "text/plain", data: Array(String(repeating: "Notes of a meeting.\n", count: 2000).utf8))
            let response = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body)
            #expect(response.status.code == 507)
            #expect((try json(response)["error"] as? [String: String])?["code"] == "insufficient_storage")
        }
        #expect(live.files(under: "tmp").isEmpty)
        #expect(live.files(under: "blobs").isEmpty)
    }
}

@Suite struct MetricsAPITests {
    @Test func metricsCountUploadsErrorsAndQueueDepth() async throws {
        let live = try LiveService()
        let pdf = try fixture("sample.pdf")
        let elf = try fixture("sample.elf")
        try await live.test(keepData: true) { client in
            let (good, goodType) = uploadBody(file: "a.pdf", type: nil, data: pdf)
            let created = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: goodType], body: good)
            #expect(created.status == .created)
            let (bad, badType) = uploadBody(file: "b", type: nil, data: elf)
            let refused = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: badType], body: bad)
            #expect(refused.status == .unsupportedMediaType)
        }
        try await live.test { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            let text = String(buffer: response.body)
            #expect(text.contains(#"intake_uploads_total{outcome="created"} 1"#))
            #expect(text.contains(#"intake_uploads_total{outcome="refused"} 1"#))
            #expect(text.contains(#"intake_errors_total{code="type_rejected"} 1"#))
            #expect(text.contains("intake_upload_bytes_total \(pdf.count)"))
            #expect(text.contains(#"intake_queue_depth{state="queued"} 1"#))
            #expect(text.contains("intake_request_duration_seconds_bucket"))
        }
    }
}

@Suite struct OpenAPITests {
    /// "METHOD /path" for every operation under `paths:` of the served document.
    func operations(in yaml: String) -> Set<String> {
        var operations: Set<String> = []
        var inPaths = false
        var path: String? = nil
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                operations.insert("\(line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()) \(path)")
            }
        }
        return operations
    }

    @Test func theDescriptionListsExactlyTheRoutesTheServerHas() async throws {
        let live = try LiveService()
        let routes = Set(
            live.service.router().routes.map { route in
                "\(route.method) " + "\(route.path)".replacingOccurrences(of: ":id", with: "{id}")
            })
        try await live.test { client in
            let response = try await client.execute(uri: "/openapi.yaml", method: .get)
            #expect(response.status == .ok)
            let documented = operations(in: String(buffer: response.body))
            #expect(documented == routes)
            #expect(documented.count == 23)
        }
    }
}

@Suite struct DiskFullAPITests {
    func run(_ command: String, _ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(command) \(arguments)")
    }

    /// Unmounts the test's tmpfs, lazily: the store the test opened on it may not be closed yet
    /// (it goes when the last reference to its service does), and the mount then detaches when it is.
    /// Cleanup, not a check: its outcome is not an expectation.
    func unmount(_ directory: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/umount")
        process.arguments = ["--lazy", directory]
        guard (try? process.run()) != nil else { return }
        process.waitUntilExit()
    }

    /// Runs as root only (CI does): the data directory is a 1 MiB tmpfs, the upload 2 MiB.
    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func fullDiskIs507AndLeavesNothing() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-full-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try run("/bin/mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", directory)
        defer {
            unmount(directory)
            try? FileManager.default.removeItem(atPath: directory)
        }
        let live = try LiveService(directory: directory)
        let data = [UInt8](repeating: UInt8(ascii: "t"), count: 2 << 20)
        try await live.test(keepData: true) { client in
            let (body, contentType) = uploadBody(file: "big.txt", type: "text/plain", data: data)
            let response = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body)
            #expect(response.status.code == 507)
            let error = try json(response)["error"] as? [String: String]
            #expect(error?["code"] == "insufficient_storage")
        }
        #expect(live.files(under: "tmp").isEmpty)
        #expect(live.files(under: "blobs").isEmpty)
        #expect(try await live.service.database.documents(DocumentQuery()).documents.isEmpty)
    }
}

@Suite struct DataDirectoryTests {
    private func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0o7777
    }

    @Test func theDataDirectoryAndTheDatabaseAreTheOwnersAloneWhateverTheUmask() async throws {
        let live = try LiveService()
        defer { try? FileManager.default.removeItem(atPath: live.directory) }
        try await live.test(keepData: true) { client in
            let (body, contentType) = uploadBody(file: "a.txt", type: "text/plain", data: try fixture("sample.txt"))
            #expect(try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body).status == .created)
        }
        #expect(mode(live.directory) == 0o700)
        for file in ["intake.sqlite", "intake.sqlite-wal", "intake.sqlite-shm"] {
            #expect(mode(live.directory + "/" + file) == 0o600, "\(file)")
        }
    }

    @Test func anExistingDataDirectoryOpenToOthersIsClosedToThem() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-open-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        chmod(directory, 0o777)
        _ = try LiveService(directory: directory)
        #expect(mode(directory) == 0o750)
    }
}

@Suite struct IngestErrorAnswerTests {
    @Test func runningOutOfFileDescriptorsIs503RetryNot500() {
        for code in [EMFILE, ENFILE] {
            let answer = APIError(IngestError.storage(StorageError(.io, operation: "create tmp/x.part", errno: code, message: "create tmp/x.part failed")))
            #expect(answer.status == .serviceUnavailable)
            #expect(answer.code == "busy")
            #expect(answer.extraHeaders[.retryAfter] == "5")
        }
        let other = APIError(IngestError.storage(StorageError(.io, operation: "fsync", errno: EIO, message: "fsync failed")))
        #expect(other.status == .internalServerError)
    }
}
