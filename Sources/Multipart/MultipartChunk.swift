/// A piece of a request body that ``MultipartReader`` can parse and cut part data from.
///
/// `[UInt8]` and `ArraySlice<UInt8>` conform here; `MultipartNIO` makes `ByteBuffer` conform, so
/// part data comes out as slices of the buffers the server read, never copied.
public protocol MultipartChunk {
    /// What a part's data is handed out as.
    associatedtype Slice

    /// Calls `body` with the chunk's bytes.
    func withUnsafeChunkBytes<Result, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> Result) throws(Failure) -> Result

    /// The bytes at `range` (0-based, as passed to `withUnsafeChunkBytes`), sharing storage where the type can.
    func slice(_ range: Range<Int>) -> Slice

    /// A slice holding a copy of `bytes`: used for the few bytes that straddled two chunks and for
    /// data decoded from a Content-Transfer-Encoding.
    static func makeSlice(copying bytes: UnsafeRawBufferPointer) -> Slice
}

extension Array: MultipartChunk where Element == UInt8 {
    public func withUnsafeChunkBytes<Result, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> Result) throws(Failure) -> Result {
        let outcome = withUnsafeBytes { bytes in Swift.Result { () throws(Failure) in try body(bytes) } }
        return try outcome.get()
    }

    public func slice(_ range: Range<Int>) -> ArraySlice<UInt8> { self[range] }

    public static func makeSlice(copying bytes: UnsafeRawBufferPointer) -> ArraySlice<UInt8> { ArraySlice(bytes) }
}

extension ArraySlice: MultipartChunk where Element == UInt8 {
    public func withUnsafeChunkBytes<Result, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> Result) throws(Failure) -> Result {
        let outcome = withUnsafeBytes { bytes in Swift.Result { () throws(Failure) in try body(bytes) } }
        return try outcome.get()
    }

    public func slice(_ range: Range<Int>) -> ArraySlice<UInt8> {
        self[(startIndex + range.lowerBound)..<(startIndex + range.upperBound)]
    }

    public static func makeSlice(copying bytes: UnsafeRawBufferPointer) -> ArraySlice<UInt8> { ArraySlice(bytes) }
}
