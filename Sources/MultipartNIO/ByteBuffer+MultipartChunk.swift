public import Multipart
public import NIOCore

/// `ByteBuffer`s are parsed in place, and part data comes out as slices of them: no copies.
extension ByteBuffer: MultipartChunk {
    public func withUnsafeChunkBytes<Result, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> Result) throws(Failure) -> Result {
        let outcome = withUnsafeReadableBytes { bytes in Swift.Result { () throws(Failure) in try body(bytes) } }
        return try outcome.get()
    }

    public func slice(_ range: Range<Int>) -> ByteBuffer {
        getSlice(at: readerIndex + range.lowerBound, length: range.count)!
    }

    public static func makeSlice(copying bytes: UnsafeRawBufferPointer) -> ByteBuffer {
        ByteBuffer(bytes: bytes)
    }
}
