import HTTPTypes
import Hummingbird
import Ingest
import IngestSQLite
import Multipart
import MultipartNIO

/// `POST /uploads` and `GET /uploads/{id}`.
struct UploadRoutes {
    let service: IntakeService

    func add(to router: Router<IntakeRequestContext>) {
        router.post("uploads") { request, context in try await create(request, context) }
        router.get("uploads/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let receipt = try await service.database.upload(id: id),
                  context.knowledgeBase == nil || context.knowledgeBase == receipt.knowledgeBase
            else { throw APIError.notFound("upload \(id)") }
            return try jsonResponse(.ok, APIModels.Upload(receipt))
        }
    }

    /// Streams the body from the socket through the parser to disk; answers 201 only once the
    /// upload is durable and queued.
    private func create(_ request: Request, _ context: IntakeRequestContext) async throws -> Response {
        guard let contentType = request.headers[.contentType],
              contentType.lowercased().hasPrefix("multipart/form-data")
        else {
            throw APIError(.unsupportedMediaType, code: "not_multipart", message: "POST /uploads takes a multipart/form-data body (curl -F)", closesConnection: true)
        }
        if let declared = request.headers[.contentLength].flatMap(Int.init), let limit = service.configuration.limits.bodyBytes, declared > limit {
            throw APIError(.contentTooLarge, code: "limit_exceeded", message: "the body is \(declared) bytes; the limit is \(limit)", closesConnection: true)
        }
        let knowledgeBase = try Self.knowledgeBase(request, key: context.knowledgeBase)
        let receipt: UploadReceipt
        do throws(IngestError) {
            receipt = try await service.ingestor.ingest(contentType: contentType, body: request.body, knowledgeBase: knowledgeBase)
        } catch {
            throw APIError(error)
        }
        return try jsonResponse(.created, APIModels.Upload(receipt), headers: [.location: "/uploads/\(receipt.id)"])
    }

    /// The API key's knowledge base; without keys, `?knowledge_base=NAME` (letters, digits, `.`,
    /// `_`, `-`, at most 64) or `default`.
    static func knowledgeBase(_ request: Request, key: String?) throws -> String {
        let requested = request.uri.queryParameters.get("knowledge_base")
        if let key {
            guard requested == nil || requested == key else {
                throw APIError(.forbidden, code: "forbidden", message: "this API key uploads into knowledge base '\(key)' only", closesConnection: true)
            }
            return key
        }
        guard let name = requested else { return "default" }
        let valid = !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        guard valid else {
            throw APIError(.badRequest, code: "invalid_knowledge_base", message: "knowledge_base must be 1 to 64 letters, digits, '.', '_' or '-'", closesConnection: true)
        }
        return name
    }
}

extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (self >= 0x30 && self <= 0x39) || (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A)
    }
}
