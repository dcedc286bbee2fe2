import AsyncHTTPClient
import Crypto
import Foundation
import Ingest
import IntakeClient
import IntakeServer
import NIOCore
import NIOHTTP1
import Testing

/// Large files go to the server in pieces (tus), and a run resumes the upload an earlier run
/// left, from the server's offset.
@Suite("Resumable sending against a live server")
struct ResumableSendingTests {
    private static let text = Array(String(repeating: "A long report that a bad connection cut in the middle.\n", count: 6000).utf8)

    private func sha256(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    /// What an interrupted run leaves: a tus upload of `file` on the server holding its first
    /// `count` bytes. Returns its URL path.
    private func partialUpload(of file: [UInt8], sending count: Int, to url: URL) async throws -> String {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        var create = HTTPClientRequest(url: url.absoluteString + "/files/")
        create.method = .POST
        create.headers.add(name: "Tus-Resumable", value: "1.0.0")
        create.headers.add(name: "Upload-Length", value: "\(file.count)")
        create.headers.add(name: "Upload-Metadata", value: "filename \(Data("report.txt".utf8).base64EncodedString())")
        let created = try await client.execute(create, timeout: .seconds(30))
        let location = try #require(created.headers.first(name: "Location"))
        var patch = HTTPClientRequest(url: url.absoluteString + location)
        patch.method = .PATCH
        patch.headers.add(name: "Tus-Resumable", value: "1.0.0")
        patch.headers.add(name: "Upload-Offset", value: "0")
        patch.headers.add(name: "Content-Type", value: "application/offset+octet-stream")
        patch.body = .bytes(ByteBuffer(bytes: file[0..<count]))
        let appended = try await client.execute(patch, timeout: .seconds(30))
        #expect(appended.status == .noContent)
        #expect(appended.headers.first(name: "Upload-Offset") == "\(count)")
        return location
    }

    @Test func aNextRunResumesTheUploadAnEarlierRunLeftAndSendsOnlyTheRest() async throws {
        let tree = try FileTree()
        defer { tree.remove() }
        let path = try tree.write("report.txt", Self.text)
        let journal = try ResumableUploadJournal(directory: tree.root + "/.journal")
        let live = try LiveServer()
        try await live.run { url in
            let file = try #require(SourceTree(paths: [path]).files.first)
            let left = try await partialUpload(of: Self.text, sending: 130_000, to: url)
            let key = ResumableUploadJournal.Key(server: url.absoluteString, knowledgeBase: nil, canonicalPath: file.canonicalPath, sha256: sha256(Self.text))
            try journal.remember(left, for: key)

            let sent = ByteCounter()
            let log = ReportLog()
            let client = RemoteTarget.makeClient(connections: 1)
            let target = RemoteTarget(
                server: url, apiKey: nil, resumable: ResumableSending(threshold: 100_000, pieceSize: 64 << 10, journal: journal), client: client)
            let summary = await BulkIngest().run([file], into: target, progress: sent) { await log.add($0) }
            try await client.shutdown()
            #expect(summary.uploaded == 1)
            #expect(sent.value == Int64(Self.text.count - 130_000))
            let report = try #require(await log.report(endingWith: "report.txt"))
            let documentID = try #require(report.documentID)
            let document = try #require(try await live.service.database.document(id: documentID))
            #expect(document.sha256 == sha256(Self.text))
            #expect(document.filename == "report.txt")
            #expect(journal.location(for: key) == nil)
        }
    }

    @Test func anUploadTheServerNoLongerHasIsStartedAgainAndSmallFilesGoWhole() async throws {
        let tree = try FileTree()
        defer { tree.remove() }
        let path = try tree.write("report.txt", Self.text)
        let small = try tree.write("small.txt", "A small note goes whole.\n")
        let journal = try ResumableUploadJournal(directory: tree.root + "/.journal")
        let live = try LiveServer()
        try await live.run { url in
            let file = try #require(SourceTree(paths: [path]).files.first)
            let key = ResumableUploadJournal.Key(server: url.absoluteString, knowledgeBase: nil, canonicalPath: file.canonicalPath, sha256: sha256(Self.text))
            try journal.remember("/files/0123456789abcdef0123456789abcdef", for: key)
            let sent = ByteCounter()
            let client = RemoteTarget.makeClient(connections: 1)
            let target = RemoteTarget(
                server: url, apiKey: nil, resumable: ResumableSending(threshold: 100_000, pieceSize: 64 << 10, journal: journal), client: client)
            let files = SourceTree(paths: [path, small]).files
            let summary = await BulkIngest().run(files, into: target, progress: sent) { _ in }
            try await client.shutdown()
            #expect(summary.uploaded == 2 && summary.failed == 0)
            // All of the big file (its old upload was gone) and the small one whole.
            #expect(sent.value == Int64(Self.text.count) + Int64("A small note goes whole.\n".utf8.count))
            #expect(journal.location(for: key) == nil)
            #expect(try await live.documentCount() == 2)
        }
    }
}
