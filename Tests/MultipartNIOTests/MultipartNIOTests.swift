import Foundation
import Multipart
import MultipartNIO
import NIOCore
import Testing

struct BufferList: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let buffers: [ByteBuffer]

    struct Iterator: AsyncIteratorProtocol {
        var remaining: ArraySlice<ByteBuffer>
        mutating func next() async throws -> ByteBuffer? { remaining.popFirst() }
    }

    func makeAsyncIterator() -> Iterator { Iterator(remaining: buffers[...]) }
}

@Suite struct MultipartNIOTests {
    let contentType = "multipart/form-data; boundary=B"
    let body = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n\r\n0123456789\r\n--B--\r\n"

    /// The address of a buffer's first readable byte.
    func address(_ buffer: ByteBuffer) -> UnsafeRawPointer {
        buffer.withUnsafeReadableBytes { $0.baseAddress! }
    }

    @Test func feedingAByteBufferGivesSlicesOfIt() throws {
        var parser = try MultipartParser(contentType: contentType)
        var buffer = ByteBuffer(string: "junk")
        buffer.moveReaderIndex(forwardBy: 4)
        buffer.writeString(body)
        let events = try parser.feed(buffer)
        let slices = events.compactMap { event -> ByteBuffer? in
            if case .body(let slice) = event { return slice }
            return nil
        }
        #expect(slices.map { String(buffer: $0) } == ["hello", "0123456789"])
        let start = address(buffer)
        for slice in slices {
            let offset = address(slice) - start
            #expect(offset >= 0 && offset < buffer.readableBytes, "slice shares the buffer's storage")
        }
        #expect(events.last == .end)
    }

    @Test func asyncSequenceOfBuffersBecomesParts() async throws {
        let bytes = Array(body.utf8)
        let buffers = stride(from: 0, to: bytes.count, by: 7).map { ByteBuffer(bytes: bytes[$0..<min($0 + 7, bytes.count)]) }
        var got: [(String, String)] = []
        for try await part in try BufferList(buffers: buffers).multipartParts(contentType: contentType) {
            var data = ByteBuffer()
            for try await var slice in part.body { data.writeBuffer(&slice) }
            got.append((part.info.name, String(buffer: data)))
        }
        #expect(got.map(\.0) == ["a", "f"])
        #expect(got.map(\.1) == ["hello", "0123456789"])
    }

    @Test func filePartStreamsFromDiskAndRoundTrips() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-nio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("doc.bin").path
        let content = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try content.write(to: URL(fileURLWithPath: path))

        let form = MultipartBody(parts: [.field("kb", "manuals"), .file("doc", path: path, filename: "doc.bin", chunkSize: 4096)])
        var buffers: [ByteBuffer] = []
        for try await chunk in form { buffers.append(ByteBuffer(bytes: chunk)) }
        var parts: [(String, [UInt8])] = []
        for try await part in try BufferList(buffers: buffers).multipartParts(contentType: form.contentType) {
            var data: [UInt8] = []
            for try await slice in part.body { data += slice.readableBytesView }
            parts.append((part.info.name, data))
        }
        #expect(parts.map(\.0) == ["kb", "doc"])
        #expect(parts.last?.1 == [UInt8](content))
    }

    @Test func missingFileIsAReadError() async throws {
        let form = MultipartBody(parts: [.file("doc", path: "/nonexistent/intake/file", filename: "x")])
        await #expect(throws: FileContents.ReadError.self) {
            for try await _ in form {}
        }
    }
}
