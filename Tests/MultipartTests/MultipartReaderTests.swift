import Multipart
import Testing

/// A body as an async sequence of chunks that counts how many chunks were pulled.
final class CountingChunks: AsyncSequence, @unchecked Sendable {
    typealias Element = [UInt8]
    private let chunks: [[UInt8]]
    private(set) var pulled = 0

    init(_ body: [UInt8], chunkSize: Int) {
        chunks = stride(from: 0, to: body.count, by: chunkSize).map { Array(body[$0..<Swift.min($0 + chunkSize, body.count)]) }
    }

    struct Iterator: AsyncIteratorProtocol {
        let owner: CountingChunks
        mutating func next() async -> [UInt8]? {
            guard owner.pulled < owner.chunks.count else { return nil }
            owner.pulled += 1
            return owner.chunks[owner.pulled - 1]
        }
    }

    func makeAsyncIterator() -> Iterator { Iterator(owner: self) }
}

@Suite struct MultipartReaderTests {
    func sampleBody() -> BodyBuilder {
        var body = BodyBuilder()
        body.field("title", "Quarterly report")
        body.file("doc", filename: "report.pdf", data: Array((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7) }))
        body.part(headers: ["Content-Disposition: form-data; name=\"b64\"", "Content-Transfer-Encoding: base64"], data: Array("aGVsbG8=".utf8))
        body.close()
        return body
    }

    @Test(arguments: [1, 7, 64, 100_000])
    func readerYieldsEveryPartWithItsDecodedData(_ chunkSize: Int) async throws {
        let body = sampleBody()
        let expected = BodyFeeder().parseWhole(body.bytes, contentType: body.contentType).parts!
        let reader = try MultipartReader(contentType: body.contentType, body: CountingChunks(body.bytes, chunkSize: chunkSize))
        var got: [CollectedPart] = []
        for try await part in reader {
            var data: [UInt8] = []
            for try await slice in part.body { data += slice }
            got.append(CollectedPart(part: part.info, data: data))
        }
        #expect(got == expected)
        #expect(got.last?.data == Array("hello".utf8))
    }

    @Test func readerPullsNoChunkBeforeItIsNeeded() async throws {
        let body = sampleBody()
        let chunks = CountingChunks(body.bytes, chunkSize: 16)
        let reader = try MultipartReader(contentType: body.contentType, body: chunks)
        var iterator = reader.makeAsyncIterator()
        let first = try await iterator.next()
        #expect(first?.info.name == "title")
        // The first part's header block ends at byte 81 of the body, inside chunk 6: nothing beyond.
        let headerEnd = 2 + body.boundary.utf8.count + 2 + 44 + 2 + 2
        #expect(chunks.pulled == (headerEnd + 15) / 16)
    }

    @Test func skippingAPartBodyMovesToTheNextPart() async throws {
        let body = sampleBody()
        let reader = try MultipartReader(contentType: body.contentType, body: CountingChunks(body.bytes, chunkSize: 100))
        var names: [String] = []
        for try await part in reader { names.append(part.info.name) }
        #expect(names == ["title", "doc", "b64"])
    }

    @Test func truncatedBodyThrowsAtTheEnd() async throws {
        var body = BodyBuilder()
        body.field("a", "1")
        let reader = try MultipartReader(contentType: body.contentType, body: CountingChunks(body.bytes, chunkSize: 10))
        await #expect(throws: MultipartError.self) {
            for try await part in reader {
                for try await _ in part.body {}
            }
        }
    }
}
