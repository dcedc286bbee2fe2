public import Ingest
public import IntakeRuntime
public import KnowledgeBase
public import Logging
public import Multipart

/// What `intake serve` runs with.
public struct ServerConfiguration: Sendable {
    /// The address to bind; loopback by default.
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// The node behind the HTTP service: data directory, limits, policy, workers. Its most used
    /// settings can be reached from here too (``dataDirectory``, ``limits``, ``workers``, …).
    public var node: NodeConfiguration = NodeConfiguration()
    /// The clock of resumable uploads' expiry and append leases (a test's own in tests).
    public var clock: any IngestClock = SystemClock()
    /// Host names requests may name in `Host` besides loopback's (when bound to loopback); when
    /// bound to another address and this is empty, any.
    public var allowedHosts: [String] = []
    /// Origins (`https://app.example.com`) whose web pages may use the API from a browser.
    public var corsOrigins: [String] = []
    /// Connections held at once; past it a new connection is closed as it is accepted. The
    /// default leaves room in the descriptor limit for each connection's upload file and for the
    /// database, blobs and extraction pipes: ``connectionLimit(forDescriptorLimit:)``.
    public var maximumConnections: Int = ServerConfiguration.connectionLimit(forDescriptorLimit: ServerConfiguration.descriptorLimit)
    /// Bytes a second a request body must arrive at, on average over each ``uploadRateWindow`` of
    /// the server waiting for it; a slower client is disconnected (0: no minimum).
    public var minimumUploadRate: Int = 1024
    public var uploadRateWindow: Duration = .seconds(30)
    /// Uploads sent in pieces (`/files/`) open at once, per knowledge base and in all; past
    /// either, a creation is refused (429 `too_many_uploads`) until one completes, is cancelled
    /// or expires.
    public var resumableUploadLimits = ResumableUploadLimits()
    /// How many bytes of one long append to a resumable upload are synced and recorded at a time
    /// while it runs (a server that dies mid-append keeps all but the last of them; an IETF client
    /// is told each offset in a `104`). A piece with a tus checksum is recorded whole or not at all.
    public var resumableCheckpointBytes: Int64 = 64 << 20
    /// `GET /events` streams open at once, in all and per API key (anonymous requests count as
    /// one key); past either, 503 `too_many_streams`.
    public var maximumEventStreams: Int = 256
    public var maximumEventStreamsPerKey: Int = 32
    /// How often the one reader of the event log looks for new events while streams are open.
    public var eventPollInterval: Duration = .milliseconds(200)
    /// How long a quiet event stream waits before a keep-alive comment (which also finds out that
    /// its client is gone).
    public var eventKeepAliveInterval: Duration = .seconds(15)
    /// A connection that sends nothing for this long is closed, mid-upload or not (a client that
    /// stalls: its upload is cleaned up like any cut-short body).
    public var idleTimeoutSeconds: Int = 60
    /// How long requests in flight may take to finish after SIGTERM or SIGINT.
    public var shutdownGracePeriod: Duration = .seconds(30)
    /// Where to post terminal document transitions, and the HMAC secret to sign them with.
    public var webhook: (url: String, secret: String)? = nil
    /// A loopback address of its own for `/metrics`, which counts across every knowledge base
    /// (nil: `/metrics` on the API's address, and only while no API key exists).
    public var metricsAddress: (host: String, port: Int)? = nil
    /// Where `/metrics` reads from.
    public var metrics: IntakeMetrics = IntakeMetrics()

    public init() {}
}

extension ServerConfiguration {
    /// The node's data directory (``NodeConfiguration/dataDirectory``).
    public var dataDirectory: String {
        get { node.dataDirectory }
        set { node.dataDirectory = newValue }
    }
    /// Limits on each upload (``NodeConfiguration/limits``); `bodyBytes` is also checked against
    /// Content-Length before reading.
    public var limits: MultipartLimits {
        get { node.limits }
        set { node.limits = newValue }
    }
    /// ``NodeConfiguration/policy``.
    public var policy: TypePolicy {
        get { node.policy }
        set { node.policy = newValue }
    }
    /// ``NodeConfiguration/workers``.
    public var workers: Int {
        get { node.workers }
        set { node.workers = newValue }
    }
    /// ``NodeConfiguration/chunker``.
    public var chunker: Chunker {
        get { node.chunker }
        set { node.chunker = newValue }
    }
    /// ``NodeConfiguration/extractionHelper``.
    public var extractionHelper: ExtractionHelper? {
        get { node.extractionHelper }
        set { node.extractionHelper = newValue }
    }
    /// ``NodeConfiguration/extractionLimits``.
    public var extractionLimits: ExtractionLimits {
        get { node.extractionLimits }
        set { node.extractionLimits = newValue }
    }
    /// ``NodeConfiguration/snifferHandles``.
    public var snifferHandles: Int {
        get { node.snifferHandles }
        set { node.snifferHandles = newValue }
    }
    /// ``NodeConfiguration/logger``.
    public var logger: Logger {
        get { node.logger }
        set { node.logger = newValue }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ServerConfiguration {
    /// Whether `name` (a host name or address, without port or brackets) is loopback:
    /// `localhost`, `::1` or 127.x.y.z.
    public static func isLoopback(_ name: String) -> Bool {
        if name == "localhost" || name == "::1" { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// This process's soft limit on open descriptors.
    public static var descriptorLimit: Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(Int.max) else { return 1024 }
        return Int(limit.rlim_cur)
    }

    /// Raises the soft limit on open descriptors to the hard limit (as servers do); returns the new soft limit.
    @discardableResult
    public static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = min(limit.rlim_max, 1 << 20)
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
        return descriptorLimit
    }

    /// Connections that fit in `descriptors`: two descriptors each (the socket and an upload's
    /// temporary file), 128 kept for everything else, at least 16 and at most 10,000.
    public static func connectionLimit(forDescriptorLimit descriptors: Int) -> Int {
        min(max((descriptors - 128) / 2, 16), 10_000)
    }
}
