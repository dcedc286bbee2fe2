public import AsyncHTTPClient
public import Crypto
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A small S3 client: the object operations a content-addressed blob store needs, signed with
/// ``SignatureV4`` and sent with AsyncHTTPClient. Transient failures are retried with backoff
/// (``S3Configuration/attempts``); every request has a deadline. Call ``shutdown()`` when done.
public final class S3Client: Sendable {
    public let configuration: S3Configuration
    let http: HTTPClient
    let signer: SignatureV4
    let endpoint: S3Endpoint
    let pathStyle: Bool
    let logger: Logger

    public init(_ configuration: S3Configuration, logger: Logger = Logger(label: "intake.s3")) throws(S3Error) {
        self.configuration = configuration
        endpoint = try S3Endpoint(configuration.endpoint ?? "https://s3.\(configuration.region).amazonaws.com")
        pathStyle = configuration.pathStyle ?? (configuration.endpoint != nil || configuration.location.bucket.contains("."))
        signer = SignatureV4(credentials: configuration.credentials, region: configuration.region)
        self.logger = logger
        var settings = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .milliseconds(Int64(configuration.connectTimeout / .milliseconds(1))),
                read: .seconds(Int64(configuration.requestTimeout.components.seconds))),
            decompression: .disabled)
        settings.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maximumConnections)
        http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: settings)
    }

    private let isShutDown = Atomic<Bool>(false)

    /// Closes the connections.
    public func shutdown() async throws {
        guard !isShutDown.exchange(true, ordering: .relaxed) else { return }
        try await http.shutdown()
    }

    deinit {
        // A client dropped without shutdown (a node that failed to start after opening it)
        // still closes its connections.
        if !isShutDown.load(ordering: .relaxed) {
            http.shutdown(queue: .global()) { _ in }
        }
    }

    /// A request body: its length, SHA-256, and a way to produce its bytes again for each attempt.
    public struct Payload: Sendable {
        public var length: Int
        public var sha256: SHA256Digest
        public var makeBody: @Sendable () -> HTTPClientRequest.Body

        public init(length: Int, sha256: SHA256Digest, makeBody: @escaping @Sendable () -> HTTPClientRequest.Body) {
            self.length = length
            self.sha256 = sha256
            self.makeBody = makeBody
        }

        /// Bytes in memory.
        public init(_ bytes: [UInt8]) {
            self.init(length: bytes.count, sha256: SHA256.hash(data: bytes)) { .bytes(ByteBuffer(bytes: bytes)) }
        }
    }

    // MARK: - Transport

    /// Sends one request, again after a transient failure, and returns the answer if its status
    /// is 2xx (or 404 with `allowingNotFound`); otherwise throws what S3 said.
    func send(
        _ method: HTTPMethod, key: String?, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = [],
        payload: Payload? = nil, allowingNotFound: Bool = false
    ) async throws(S3Error) -> HTTPClientResponse {
        var delay = configuration.firstRetryDelay
        var attempt = 1
        while true {
            do throws(S3Error) {
                return try await sendOnce(method, key: key, query: query, headers: headers, payload: payload, allowingNotFound: allowingNotFound)
            } catch {
                guard error.isTransient, attempt < configuration.attempts else { throw error }
                logger.debug("S3 request retried", metadata: ["method": "\(method)", "attempt": "\(attempt)", "error": "\(error)"])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    throw S3Error(.unavailable, "cancelled while waiting to retry an S3 request")
                }
                delay *= 2
                attempt += 1
            }
        }
    }

    private func sendOnce(
        _ method: HTTPMethod, key: String?, query: [(name: String, value: String)], headers: [(name: String, value: String)],
        payload: Payload?, allowingNotFound: Bool
    ) async throws(S3Error) -> HTTPClientResponse {
        let bucket = configuration.location.bucket
        let host = pathStyle ? endpoint.host : "\(bucket).\(endpoint.host)"
        let path = pathStyle ? "/\(bucket)" + (key.map { "/" + $0 } ?? "") : "/" + (key ?? "")
        let authority = endpoint.authority(host: host)
        var signed: [(name: String, value: String)] = [("host", authority)] + headers
        let payloadHash = payload.map { SignatureV4.hex($0.sha256) } ?? SignatureV4.emptyPayloadHash
        if let payload { signed.append(("content-length", String(payload.length))) }
        let request = SignatureV4.Request(method: method.rawValue, path: path, query: query, headers: signed)
        signed += signer.signingHeaders(for: request, payloadHash: payloadHash, time: Int(time(nil)))

        let queryString =
            query.isEmpty
            ? ""
            : "?"
                + query
                .map { URIEncoding.encode($0.name, keepingSlashes: false) + "=" + URIEncoding.encode($0.value, keepingSlashes: false) }
                .joined(separator: "&")
        var outgoing = HTTPClientRequest(url: "\(endpoint.scheme)://\(authority)\(URIEncoding.encode(path, keepingSlashes: true))\(queryString)")
        outgoing.method = method
        for (name, value) in signed where name != "host" && name != "content-length" { outgoing.headers.add(name: name, value: value) }
        if let payload { outgoing.body = payload.makeBody() }
        let seconds = configuration.requestTimeout.components.seconds + Int64((payload?.length ?? 0) >> 20)

        let response: HTTPClientResponse
        do {
            response = try await http.execute(outgoing, timeout: .seconds(seconds), logger: logger)
        } catch {
            throw S3Error(.unavailable, "the object store at \(endpoint.authority(host: endpoint.host)) did not answer \(method) \(key ?? bucket): \(error)")
        }
        let status = Int(response.status.code)
        if (200..<300).contains(status) || (allowingNotFound && status == 404) { return response }
        throw await Self.failure(response, method: method, key: key ?? bucket)
    }

    /// The error an answer that is not 2xx stands for, read from its XML body (up to 64 KiB).
    static func failure(_ response: HTTPClientResponse, method: HTTPMethod, key: String) async -> S3Error {
        let status = Int(response.status.code)
        let text = (try? await response.body.collect(upTo: 64 << 10)).map { String(buffer: $0) } ?? ""
        return error(status: status, xml: text[...], what: "\(method) \(key)")
    }

    static func error(status: Int, xml: Substring, what: String) -> S3Error {
        let code = S3XML.text("Code", in: xml)
        let message = S3XML.text("Message", in: xml) ?? "HTTP \(status)"
        let description = "the object store refused \(what): \(code.map { "\($0): " } ?? "")\(message) (HTTP \(status))"
        switch (status, code) {
        case (_, "BadDigest"?), (_, "InvalidDigest"?), (_, "XAmzContentSHA256Mismatch"?):
            return S3Error(.checksumMismatch, status: status, code: code, description)
        case (404, _), (_, "NoSuchKey"?), (_, "NoSuchUpload"?):
            return S3Error(.notFound, status: status, code: code, description)
        case (500..., _):
            return S3Error(.serverError, status: status, code: code, description)
        default:
            return S3Error(.refused, status: status, code: code, description)
        }
    }

    /// Reads the rest of an answer whose body is not needed (a PUT's, a DELETE's), so that its
    /// connection goes back to the pool rather than being closed and opened anew.
    static func discardBody(_ response: HTTPClientResponse) async {
        _ = try? await response.body.collect(upTo: 1 << 20)
    }

    /// The whole body of a small answer (an XML document).
    static func document(_ response: HTTPClientResponse, what: String) async throws(S3Error) -> String {
        do {
            return String(buffer: try await response.body.collect(upTo: 16 << 20))
        } catch {
            throw S3Error(.unavailable, "reading the answer to \(what) failed: \(error)")
        }
    }
}
