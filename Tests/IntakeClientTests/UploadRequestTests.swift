import Foundation
import IntakeClient
import Multipart
import MultipartNIO
import NIOCore
import Testing

@Suite("UploadRequest and UploadBody")
struct UploadRequestTests {
    private func collect(_ body: UploadBody) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in body { bytes += buffer.readableBytesView }
        return bytes
    }

    @Test func theSameFileGivesTheSameBodyAndKeyOnEveryAttempt() async throws {
        let tree = try FileTree()
        defer { tree.remove() }
        let path = try tree.write("a.txt", "some text")
        let file = try #require(SourceTree(paths: [path]).files.first)
        let first = UploadRequest(file: file, sha256: String(repeating: "a", count: 64), fields: [("title", "T")])
        let second = UploadRequest(file: file, sha256: String(repeating: "a", count: 64), fields: [("title", "T")])
        #expect(first.idempotencyKey == second.idempotencyKey)
        #expect(first.contentType == second.contentType)
        #expect(try await collect(UploadBody(first)) == (try await collect(UploadBody(second))))
        // Another path or other content is another key.
        var moved = file
        moved.canonicalPath += "-moved"
        #expect(UploadRequest(file: moved, sha256: String(repeating: "a", count: 64), fields: []).idempotencyKey != first.idempotencyKey)
        #expect(UploadRequest(file: file, sha256: String(repeating: "b", count: 64), fields: []).idempotencyKey != first.idempotencyKey)
    }

    @Test func theBodyHasContentLengthBytesAndParsesBackToTheFieldsAndTheFile() async throws {
        let tree = try FileTree()
        defer { tree.remove() }
        let data = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let path = try tree.write("dir/report \"Q3\".pdf", data)
        let file = try #require(SourceTree(paths: [path]).files.first)
        let request = UploadRequest(file: file, sha256: String(repeating: "c", count: 64), fields: [("title", "Quarterly"), ("lang", "en")])
        let progress = ByteCounter()
        let body = try await collect(UploadBody(request, progress: progress, chunkLength: 64 * 1024))
        #expect(Int64(body.count) == request.contentLength)
        #expect(progress.value == Int64(data.count))

        // Read back through the parser, straight from the file again.
        let reader = try MultipartReader(contentType: request.contentType, body: UploadBody(request))
        var parts: [(MultipartPart, [UInt8])] = []
        for try await part in reader {
            var bytes: [UInt8] = []
            for try await slice in part.body { bytes += slice.readableBytesView }
            parts.append((part.info, bytes))
        }
        #expect(parts.map(\.0.name) == ["title", "lang", "file"])
        #expect(parts[0].1 == Array("Quarterly".utf8))
        #expect(parts[2].0.filename == "report %22Q3%22.pdf")
        #expect(parts[2].0.contentType == "application/pdf")
        #expect(parts[2].1 == data)
    }

    @Test func aFileThatChangedSizeSinceItWasHashedFailsTheBody() async throws {
        let tree = try FileTree()
        defer { tree.remove() }
        let path = try tree.write("grows.txt", "12345")
        let file = try #require(SourceTree(paths: [path]).files.first)
        let request = UploadRequest(file: file, sha256: String(repeating: "d", count: 64), fields: [])
        try tree.write("grows.txt", "1234567890")
        await #expect(throws: FileChangedError.self) { try await collect(UploadBody(request)) }
        try tree.write("grows.txt", "12")
        await #expect(throws: FileChangedError.self) { try await collect(UploadBody(request)) }
    }

    @Test func retryDelaysGrowExponentiallyWithJitterUpToTheCapAndHonourRetryAfter() {
        let policy = RetryPolicy(maximumAttempts: 8, baseDelay: .milliseconds(100), maximumDelay: .seconds(2))
        for attempt in 1...10 {
            let full = min(Duration.milliseconds(100) * (1 << (attempt - 1)), .seconds(2))
            for _ in 0..<50 {
                let delay = policy.delay(afterAttempt: attempt)
                #expect(delay >= full / 2 && delay <= full)
            }
        }
        #expect(policy.delay(afterAttempt: 1, retryAfter: 1.5) == .milliseconds(1500))
        #expect(policy.delay(afterAttempt: 1, retryAfter: 60) == .seconds(2))
    }
}
