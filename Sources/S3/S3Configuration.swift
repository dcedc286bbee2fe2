/// How to reach a bucket: where, as whom, and how patiently.
public struct S3Configuration: Sendable {
    public var location: S3Location
    /// The service's base URL (`http://127.0.0.1:8333`, `https://ACCOUNT.r2.cloudflarestorage.com`);
    /// nil for AWS itself, `https://s3.REGION.amazonaws.com`.
    public var endpoint: String?
    public var region: String
    public var credentials: S3Credentials
    /// Path-style addressing (`ENDPOINT/BUCKET/KEY`) rather than virtual-hosted
    /// (`BUCKET.ENDPOINT/KEY`). Nil: path-style for a custom endpoint or a bucket with a dot,
    /// virtual-hosted on AWS.
    public var pathStyle: Bool?
    /// How long one request may take to be answered, plus a second per MiB it sends.
    public var requestTimeout: Duration = .seconds(30)
    /// How long making a connection may take (an attempt that cannot connect fails after it).
    public var connectTimeout: Duration = .seconds(3)
    /// How many times a request is sent before a transient failure (no connection, 5xx,
    /// `SlowDown`) is given up: the waits between them double from ``firstRetryDelay``.
    public var attempts: Int = 3
    public var firstRetryDelay: Duration = .milliseconds(200)
    /// Connections kept to the service at most.
    public var maximumConnections: Int = 16

    public init(location: S3Location, endpoint: String? = nil, region: String = "us-east-1", credentials: S3Credentials, pathStyle: Bool? = nil) {
        self.location = location
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.pathStyle = pathStyle
    }
}

extension S3Configuration {
    /// Throws ``S3Error/Kind/invalidConfiguration`` if the endpoint is not a usable URL.
    public func checkEndpoint() throws(S3Error) {
        _ = try S3Endpoint(endpoint ?? "https://s3.\(region).amazonaws.com")
    }
}

/// The parts of an endpoint URL a request is built from.
struct S3Endpoint: Sendable {
    var scheme: String
    var host: String
    var port: Int?

    init(_ url: String) throws(S3Error) {
        guard let separator = url.firstRange(of: "://") else {
            throw S3Error(.invalidConfiguration, "the S3 endpoint '\(url)' is not a URL such as http://127.0.0.1:8333")
        }
        scheme = url[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw S3Error(.invalidConfiguration, "the S3 endpoint '\(url)' must start with http:// or https://")
        }
        var authority = url[separator.upperBound...]
        while authority.hasSuffix("/") { authority.removeLast() }
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("@"), !authority.contains("?") else {
            throw S3Error(.invalidConfiguration, "the S3 endpoint '\(url)' must be a scheme, a host and an optional port, with no path")
        }
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else {
                throw S3Error(.invalidConfiguration, "the S3 endpoint '\(url)' has an invalid port")
            }
            host = String(authority[..<colon])
            self.port = port
        } else {
            host = String(authority)
            port = nil
        }
    }

    /// `host[:port]`, as the `Host` header gives it (without a default port).
    func authority(host: String) -> String {
        guard let port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) else { return host }
        return "\(host):\(port)"
    }
}
