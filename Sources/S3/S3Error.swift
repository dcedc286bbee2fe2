/// A failed S3 request, or a configuration that cannot work.
public struct S3Error: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// No connection, a reset, or no answer in time (after the retries).
        case unavailable
        /// The service answered 5xx (after the retries).
        case serverError
        /// The service refused the request (4xx), e.g. access denied or no such bucket.
        case refused
        /// The bytes the service received do not match their checksum (`BadDigest`), or the
        /// checksum it reports is not the one sent.
        case checksumMismatch
        /// The object or upload does not exist.
        case notFound
        /// An answer this client cannot read.
        case invalidResponse
        /// A bucket, prefix, endpoint or credentials that cannot be used.
        case invalidConfiguration
    }

    public var kind: Kind
    /// The HTTP status, when there was an answer.
    public var status: Int?
    /// S3's error code (`NoSuchBucket`, `BadDigest`, `SlowDown`, …), when it gave one.
    public var code: String?
    public var message: String

    public init(_ kind: Kind, status: Int? = nil, code: String? = nil, _ message: String) {
        self.kind = kind
        self.status = status
        self.code = code
        self.message = message
    }

    /// Whether sending the same request again may succeed.
    public var isTransient: Bool {
        switch kind {
        case .unavailable, .serverError: return true
        default: return status == 429 || code == "SlowDown" || code == "RequestTimeout"
        }
    }

    public var description: String { message }
}
