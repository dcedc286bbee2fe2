import Multipart
import IntakeTesting
import Testing

/// An async sequence of the given chunks.
struct ChunkList: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let chunks: [[UInt8]]

    struct Iterator: AsyncIteratorProtocol {
        var remaining: ArraySlice<[UInt8]>
        mutating func next() async throws -> [UInt8]? { remaining.popFirst() }
    }

    func makeAsyncIterator() -> Iterator { Iterator(remaining: chunks[...]) }
}

@Suite struct MultipartWriterTests {
    @Test func namesAndFilenamesAreEscapedLikeBrowsers() {
        var writer = MultipartWriter(boundary: try! MultipartBoundary("B"))
        let head = String(decoding: writer.partHead(name: "a\"b\r\nc", filename: "x\ny\".txt", contentType: "text/plain\r\nX-Evil: 1"), as: UTF8.self)
        #expect(head == "--B\r\nContent-Disposition: form-data; name=\"a%22b%0D%0Ac\"; filename=\"x%0Ay%22.txt\"\r\nContent-Type: text/plain  X-Evil: 1\r\n\r\n")
    }

    @Test func randomBoundariesDiffer() {
        #expect(MultipartWriter().boundary != MultipartWriter().boundary)
        #expect(MultipartWriter.randomBoundary().utf8.count == 46)
    }

    @Test func emptyFormRoundTrips() {
        var writer = MultipartWriter()
        let body = writer.end()
        #expect(BodyFeeder().parseWhole(body, contentType: writer.contentType) == .parts([]))
    }

    @Test func randomFormsRoundTripThroughTheParser() {
        var generator = SeededGenerator(seed: 7)
        let alphabet = Array("ab\"\r\n-é日 \\;=".unicodeScalars)
        for round in 0..<200 {
            var writer = MultipartWriter()
            var body: [UInt8] = []
            var expected: [(name: String, filename: String?, data: [UInt8])] = []
            for _ in 0..<Int.random(in: 0...5, using: &generator) {
                let name = String(String.UnicodeScalarView((0..<Int.random(in: 1...8, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }))
                let isFile = Bool.random(using: &generator)
                let filename = isFile ? name + ".bin" : nil
                // Data full of near misses: CR, LF, dashes and pieces of the boundary.
                let pieces: [[UInt8]] = [[13], [10], Array("--".utf8), Array(writer.boundary.description.utf8.prefix(10)), [0, 255]]
                var data: [UInt8] = []
                for _ in 0..<Int.random(in: 0...40, using: &generator) { data += pieces.randomElement(using: &generator)! }
                body += writer.partHead(name: name, filename: filename)
                body += data
                expected.append((MultipartWriter.escapeParameter(name), filename.map(MultipartWriter.escapeParameter), data))
            }
            body += writer.end()
            let parts = BodyFeeder().parseWhole(body, contentType: writer.contentType).parts
            #expect(parts?.count == expected.count, "round \(round)")
            for (part, want) in zip(parts ?? [], expected) {
                #expect(part.part.name == want.name)
                #expect(part.part.filename == want.filename)
                #expect(part.data == want.data)
            }
        }
    }

    @Test func streamedBodyEncodesEveryPartInOrder() async throws {
        let file = MultipartFormPart(
            name: "doc", filename: "a.txt", contentType: "text/plain",
            content: .stream {
                ChunkList(chunks: [Array("hello ".utf8), [], Array("world".utf8)])
            })
        let body = MultipartBody(parts: [.field("title", "T"), file, .field("empty", "")])
        var bytes: [UInt8] = []
        for try await chunk in body { bytes += chunk }
        let parts = BodyFeeder().parseWhole(bytes, contentType: body.contentType).parts
        #expect(parts?.map(\.part.name) == ["title", "doc", "empty"])
        #expect(parts?.map(\.data) == [Array("T".utf8), Array("hello world".utf8), []])
        #expect(parts?[1].part.contentType == "text/plain")
    }
}
