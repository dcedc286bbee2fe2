import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
public import HTTPTypes
public import Hummingbird
public import Ingest
import Multipart

/// An error as the API reports it: a status and `{"error": {"code": "…", "message": "…"}}`.
public struct APIError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    /// A stable, machine-readable code such as `invalid_body` or `type_rejected`.
    public var code: String
    /// A sentence for the person reading it (client strings in it are JSON-escaped on output).
    public var message: String
    /// Whether to close the connection after the response (the rest of the body is not read).
    public var closesConnection = false
    /// More headers for the response.
    public var extraHeaders: HTTPFields = [:]

    /// The status code as a number.
    public var statusCode: Int { status.code }

    public init(_ status: HTTPResponse.Status, code: String, message: String, closesConnection: Bool = false) {
        self.status = status
        self.code = code
        self.message = message
        self.closesConnection = closesConnection
    }

    private struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
        }
        let error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try APIModels.encoder.encode(Body(error: Body.Detail(code: code, message: message)))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if closesConnection { headers[.connection] = "close" }
        headers.append(contentsOf: extraHeaders)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The answer while the store cannot be reached: 503, retry in a few seconds.
    static var storeUnavailable: APIError {
        var error = APIError(.serviceUnavailable, code: "store_unavailable", message: "the database cannot be reached for now; nothing was recorded: retry shortly")
        error.extraHeaders[.retryAfter] = "5"
        return error
    }

    static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "\(what) was not found")
    }

    /// The answer to an ingestion failure: 400 malformed body, 413 over a limit, 415 refused type,
    /// 507 disk full, 503 cancelled or out of file descriptors (retry), 500 otherwise.
    public init(_ error: IngestError) {
        switch error {
        case .invalidBody(let parseError):
            switch parseError.code {
            case .limitExceeded(let limit):
                self.init(.contentTooLarge, code: "limit_exceeded", message: "\(parseError.description) [limit \(limit)]", closesConnection: true)
            case .invalidContentType:
                self.init(.unsupportedMediaType, code: "not_multipart", message: parseError.description)
            default:
                self.init(.badRequest, code: "invalid_body", message: parseError.description, closesConnection: true)
            }
        case .typeRejected(let rejection):
            self.init(.unsupportedMediaType, code: "type_rejected", message: rejection.description, closesConnection: true)
        case .fileTooLarge(let part, let limit):
            self.init(.contentTooLarge, code: "limit_exceeded", message: "file part \(part) is larger than the limit of \(limit) bytes", closesConnection: true)
        case .storage(let storageError) where storageError.code == .diskFull:
            self.init(
                .init(code: 507, reasonPhrase: "Insufficient Storage"), code: "insufficient_storage", message: "the server's disk is full; nothing of this upload was kept", closesConnection: true)
        case .storage(let storageError) where storageError.errno == EMFILE || storageError.errno == ENFILE:
            self.init(.serviceUnavailable, code: "busy", message: "the server has no file descriptor free for this upload; nothing of it was kept: send it again", closesConnection: true)
            extraHeaders[.retryAfter] = "5"
        case .storage(let storageError) where storageError.code == .unavailable:
            self.init(.serviceUnavailable, code: "blob_store_unavailable", message: "the blob store cannot be reached; nothing of this upload was kept: send it again", closesConnection: true)
            extraHeaders[.retryAfter] = "5"
        case .storage(let storageError) where storageError.code == .rejected:
            self.init(
                .badGateway, code: "blob_store_rejected", message: "the blob store refused the bytes (a checksum that did not match, or access denied); nothing of this upload was kept",
                closesConnection: true)
        case .storage:
            self.init(.internalServerError, code: "storage_failed", message: "the upload could not be stored; nothing of it was kept", closesConnection: true)
        case .bodyFailed(let message):
            self.init(.badRequest, code: "body_failed", message: "reading the request body failed: \(message)", closesConnection: true)
        case .catalog:
            self.init(.internalServerError, code: "catalog_failed", message: "the upload could not be recorded; nothing of it was kept")
        case .storeUnavailable:
            self = .storeUnavailable
        case .catalogFull:
            self.init(.init(code: 507, reasonPhrase: "Insufficient Storage"), code: "insufficient_storage", message: "the server's database disk is full; nothing of this upload was kept")
        case .blobRemoved:
            self.init(.serviceUnavailable, code: "retry", message: "content of this upload was deleted while it was recorded; nothing of it was kept: send it again")
            extraHeaders[.retryAfter] = "1"
        case .cancelled:
            self.init(.serviceUnavailable, code: "shutting_down", message: "the server is shutting down; retry the upload", closesConnection: true)
        }
    }
}
