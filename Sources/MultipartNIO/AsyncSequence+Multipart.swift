public import Multipart
public import NIOCore

extension AsyncSequence where Element == ByteBuffer {
    /// The parts of this body (a request body of `ByteBuffer`s, as Hummingbird and Vapor give it),
    /// with part data as slices of its buffers and backpressure kept.
    ///
    /// ```swift
    /// for try await part in try request.body.multipartParts(contentType: contentType) {
    ///     for try await buffer in part.body { try await sink.write(buffer) }
    /// }
    /// ```
    public func multipartParts(
        contentType: String, limits: MultipartLimits = MultipartLimits(), options: MultipartParser.Options = MultipartParser.Options()
    ) throws(MultipartError) -> MultipartReader<Self> {
        try MultipartReader(contentType: contentType, body: self, limits: limits, options: options)
    }
}
