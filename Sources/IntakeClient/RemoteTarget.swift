public import AsyncHTTPClient
public import Foundation
import NIOCore
import MultipartNIO
import NIOHTTP1

/// An Intake server: `GET /documents?sha256=` to find what it has, `POST /uploads` streaming the
/// file from disk, with the request's `Idempotency-Key`.
public struct RemoteTarget: UploadTarget {
    public let server: URL
    public let apiKey: String?
    /// The knowledge base to upload into when the server has no keys (`?knowledge_base=`); with
    /// a key, the key's.
    public let knowledgeBase: String?
    /// How files above a size are sent in pieces (tus), resumable across runs; nil: never.
    public let resumable: ResumableSending?
    /// The bytes a second all uploads together may send; nil: as fast as they go.
    public let rateLimit: RateLimit?
    let client: HTTPClient

    /// A target on `server` (`http://host:port`). `client` is shut down by its owner.
    public init(
        server: URL, apiKey: String?, knowledgeBase: String? = nil, resumable: ResumableSending? = nil, rateLimit: RateLimit? = nil, client: HTTPClient
    ) {
        self.rateLimit = rateLimit
        self.server = server
        self.apiKey = apiKey
        self.knowledgeBase = knowledgeBase
        self.resumable = resumable
        self.client = client
    }

    /// A client for `connections` concurrent uploads; shut it down when done. A server that
    /// refuses connections is retried by the client until `connectTimeout`, then reported as a
    /// network error (which ``BulkIngest`` retries with its own backoff).
    public static func makeClient(connections: Int, connectTimeout: Duration = .seconds(5)) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(connections, 1)
        let milliseconds = connectTimeout.components.seconds * 1000 + connectTimeout.components.attoseconds / 1_000_000_000_000_000
        configuration.timeout = .init(connect: .milliseconds(milliseconds), read: .seconds(300))
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func existingDocument(sha256: String) async throws(UploadFailure) -> String? {
        var request = HTTPClientRequest(url: url("documents?sha256=\(sha256)&limit=1"))
        request.method = .GET
        addAuthorization(&request)
        let (status, headers, body) = try await send(request)
        guard status == 200 else { throw Self.failure(status: status, headers: headers, body: body) }
        struct Page: Decodable { struct Document: Decodable { let id: String }; let documents: [Document] }
        guard let page = try? JSONDecoder().decode(Page.self, from: body) else {
            throw UploadFailure(status: status, code: "bad_response", message: "GET /documents answered something that is not a document list", isRetryable: false)
        }
        return page.documents.first?.id
    }

    public func upload(_ upload: UploadRequest, progress: ByteCounter) async throws(UploadFailure) -> String {
        if let resumable, upload.file.size > resumable.threshold {
            return try await uploadInPieces(upload, resumable, progress: progress)
        }
        var request = HTTPClientRequest(url: url("uploads"))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: upload.contentType)
        request.headers.add(name: "Idempotency-Key", value: upload.idempotencyKey)
        addAuthorization(&request)
        request.body = .stream(UploadBody(upload, progress: progress, rateLimit: rateLimit), length: .known(upload.contentLength))
        let (status, headers, body) = try await send(request)
        guard status == 201 else { throw Self.failure(status: status, headers: headers, body: body) }
        return try Self.documentID(in: body, status: status, of: upload, answeredBy: "POST /uploads")
    }

    /// The id of the one document of the upload `body` describes (the answer of `POST /uploads`
    /// or `GET /uploads/{id}`), checked to have the content that was hashed.
    static func documentID(in body: Data, status: Int, of upload: UploadRequest, answeredBy request: String) throws(UploadFailure) -> String {
        struct Receipt: Decodable { struct Document: Decodable { let id: String; let sha256: String }; let documents: [Document] }
        guard let receipt = try? JSONDecoder().decode(Receipt.self, from: body), let document = receipt.documents.first else {
            throw UploadFailure(status: status, code: "bad_response", message: "\(request) answered without a document", isRetryable: false)
        }
        guard document.sha256 == upload.sha256 else {
            throw UploadFailure(
                status: status, code: "file_changed", message: "the server stored content with SHA-256 \(document.sha256), not \(upload.sha256): the file changed while it was being uploaded",
                isRetryable: false)
        }
        return document.id
    }

    func url(_ path: String) -> String {
        var base = server.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        guard let knowledgeBase, let escaped = knowledgeBase.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(["&", "=", "+"])) else {
            return base + "/" + path
        }
        return base + "/" + path + (path.contains("?") ? "&" : "?") + "knowledge_base=" + escaped
    }

    func addAuthorization(_ request: inout HTTPClientRequest) {
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
    }

    /// Sends `request`; returns the status, headers and (at most 1 MiB of) body.
    func send(_ request: HTTPClientRequest) async throws(UploadFailure) -> (Int, HTTPHeaders, Data) {
        do {
            let response = try await client.execute(request, timeout: .hours(24))
            let body = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), response.headers, Data(body.readableBytesView))
        } catch let error as FileChangedError {
            throw UploadFailure(code: "file_changed", message: error.description, isRetryable: false)
        } catch let error as FileContents.ReadError {
            throw UploadFailure(code: "read_failed", message: "\(error)", isRetryable: false)
        } catch is CancellationError {
            throw UploadFailure(code: "cancelled", message: "interrupted", isRetryable: false)
        } catch {
            if Task.isCancelled { throw UploadFailure(code: "cancelled", message: "interrupted", isRetryable: false) }
            throw UploadFailure(code: "network", message: "\(error)", isRetryable: true)
        }
    }

    /// The failure an error response stands for, with the server's code and message.
    static func failure(status: Int, headers: HTTPHeaders, body: Data) -> UploadFailure {
        struct ErrorBody: Decodable { struct Detail: Decodable { let code: String; let message: String }; let error: Detail }
        let retryAfter = headers.first(name: "Retry-After").flatMap(Double.init)
        if let parsed = try? JSONDecoder().decode(ErrorBody.self, from: body) {
            return .http(status: status, code: parsed.error.code, message: parsed.error.message, retryAfter: retryAfter)
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return .http(status: status, code: "http_\(status)", message: text.isEmpty ? "HTTP \(status)" : text, retryAfter: retryAfter)
    }
}
