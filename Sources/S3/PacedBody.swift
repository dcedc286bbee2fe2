public import AsyncHTTPClient
public import NIOCore

/// A request body that reads its next buffer only once the event loops have written the last
/// one out (or found the connection full, which pauses the body).
///
/// AsyncHTTPClient hands each buffer to the connection's event loop and asks for the next at
/// once; it learns that the connection is full only when the loop has run those writes. When the
/// loops are busy (two cores shared with the HTTP server and the object store) a body read from
/// a file at disk speed queued dozens of 256 KiB buffers per connection before the pause came,
/// all of them in memory. Waiting for a turn of every loop before each read bounds that to one
/// buffer per request.
struct PacedBuffers<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer

    let base: Base
    let loops: [any EventLoop]

    func makeAsyncIterator() -> Iterator {
        Iterator(base: base.makeAsyncIterator(), loops: loops)
    }

    struct Iterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let loops: [any EventLoop]
        var isFirst = true

        mutating func next() async throws -> ByteBuffer? {
            if !isFirst {
                // Every loop runs what was queued on it before this: the last buffer's write.
                for loop in loops { try await loop.submit {}.get() }
            }
            isFirst = false
            return try await base.next()
        }
    }
}

extension S3Client {
    /// A body of `length` bytes from `buffers`, read no faster than the connection sends them.
    public func pacedBody<Buffers: AsyncSequence & Sendable>(_ buffers: Buffers, length: Int) -> HTTPClientRequest.Body
    where Buffers.Element == ByteBuffer {
        .stream(PacedBuffers(base: buffers, loops: Array(http.eventLoopGroup.makeIterator())), length: .known(Int64(length)))
    }
}
