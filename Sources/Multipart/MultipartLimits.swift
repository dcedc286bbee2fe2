/// Bounds on what one body may make the parser hold or skip. Crossing one is a
/// ``MultipartError`` with code ``MultipartError/Code/limitExceeded(_:)`` that names the limit,
/// its value and the byte offset; nothing is ever silently truncated.
///
/// Byte limits count bytes as they are on the wire (before any Content-Transfer-Encoding is
/// decoded; decoding never makes data larger). `nil` means no limit.
public struct MultipartLimits: Sendable, Hashable {
    /// The name of one limit, as carried by ``MultipartError/Code/limitExceeded(_:)``.
    public enum Limit: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        case headerBytes, headerCount, parts, fieldBytes, fieldsBytes, fileBytes, bodyBytes, preambleBytes, epilogueBytes
        public var description: String { rawValue }
    }

    /// Bytes of one part's header block, line breaks and the empty line that ends it included.
    /// Default 16 KiB.
    public var headerBytes: Int = 16 * 1024
    /// Header lines in one part (continuation lines of a folded header not counted). Default 64.
    public var headerCount: Int = 64
    /// Parts in one body, parts that are skipped included. Default 1,000.
    public var parts: Int = 1000
    /// Data bytes of one part that is not a file (no `filename` parameter). Default 1 MiB.
    public var fieldBytes: Int = 1024 * 1024
    /// Data bytes of all parts that are not files, together: a consumer that keeps fields in
    /// memory keeps at most this much. Default 1 MiB.
    public var fieldsBytes: Int = 1024 * 1024
    /// Data bytes of one file part (`nil`: none). Default 1 GiB.
    public var fileBytes: Int? = 1 << 30
    /// Bytes of the whole body (`nil`: none). Default 2 GiB.
    public var bodyBytes: Int? = 2 << 30
    /// Bytes before the first delimiter. Default 64 KiB.
    public var preambleBytes: Int = 64 * 1024
    /// Bytes after the close delimiter. Default 64 KiB.
    public var epilogueBytes: Int = 64 * 1024

    /// The defaults listed on each property.
    public init() {}

    /// No limit on anything but the bytes that must be held in memory: header bytes and count
    /// stay bounded, since a header block is buffered.
    public static var unlimitedData: MultipartLimits {
        var limits = MultipartLimits()
        limits.parts = .max
        limits.fieldBytes = .max
        limits.fieldsBytes = .max
        limits.fileBytes = nil
        limits.bodyBytes = nil
        limits.preambleBytes = .max
        limits.epilogueBytes = .max
        return limits
    }

    /// The configured value of `limit` (`nil` for none).
    public subscript(limit: Limit) -> Int? {
        switch limit {
        case .headerBytes: return headerBytes
        case .headerCount: return headerCount
        case .parts: return parts
        case .fieldBytes: return fieldBytes
        case .fieldsBytes: return fieldsBytes
        case .fileBytes: return fileBytes
        case .bodyBytes: return bodyBytes
        case .preambleBytes: return preambleBytes
        case .epilogueBytes: return epilogueBytes
        }
    }
}
