import Foundation
import HTTPTypes
import Hummingbird
import Ingest
import IntakeRuntime
import Multipart
import MultipartNIO

/// `POST /uploads` and `GET /uploads/{id}`.
struct UploadRoutes {
    let service: IntakeService

    func add(to router: Router<IntakeRequestContext>) {
        let metrics = service.configuration.metrics
        router.post("uploads") { request, context in
            do {
                return try await create(request, context)
            } catch let error as APIError {
                metrics.uploadFailed(code: error.code)
                throw error
            }
        }
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
        await context.expectBody()
        guard let idempotencyKey = request.headers[HTTPField.Name("Idempotency-Key")!] else {
            let receipt = try await ingest(contentType: contentType, body: request.body, knowledgeBase: knowledgeBase)
            return Self.created(receipt)
        }
        return try await createOnce(request, contentType: contentType, knowledgeBase: knowledgeBase, key: idempotencyKey)
    }

    private func ingest(
        contentType: String, body: some AsyncSequence<ByteBuffer, any Error>, knowledgeBase: String, idempotency: IdempotencyCompletion? = nil
    ) async throws -> UploadReceipt {
        let metrics = service.configuration.metrics
        let start = ContinuousClock.now
        do throws(IngestError) {
            let receipt = try await service.ingestor.ingest(contentType: contentType, body: body, knowledgeBase: knowledgeBase, idempotency: idempotency)
            metrics.uploadCreated(bytes: receipt.documents.reduce(0) { $0 + $1.size }, documents: receipt.documents.count, duration: .now - start)
            return receipt
        } catch {
            throw APIError(error)
        }
    }

    static func created(_ receipt: UploadReceipt) -> Response {
        jsonResponse(.created, bytes: APIModels.Upload(receipt).jsonBytes, headers: [.location: "/uploads/\(receipt.id)"])
    }

    /// `Idempotency-Key` (IETF httpapi draft): the first request with a key is processed and the
    /// key remembered for 24 hours with the upload it created; a retry of the same form gets that
    /// upload's 201 again (rendered from the catalog, and creating nothing), one with another
    /// form gets 422, one while the first is running 409. Requests are compared by their form
    /// (``FormFingerprint``), whatever their boundary.
    private func createOnce(_ request: Request, contentType: String, knowledgeBase: String, key: String) async throws -> Response {
        guard !key.isEmpty, key.utf8.count <= 255 else {
            throw APIError(.badRequest, code: "invalid_idempotency_key", message: "Idempotency-Key must be 1 to 255 characters", closesConnection: true)
        }
        let database = service.database
        switch try await database.claimIdempotency(knowledgeBase: knowledgeBase, key: key, owner: service.configuration.node.name) {
        case .inFlight:
            throw APIError(.conflict, code: "idempotency_in_flight", message: "a request with this Idempotency-Key is still being processed", closesConnection: true)
        case .completed(let original, let uploadID):
            let fingerprint: String
            do {
                fingerprint = try await service.ingestor.fingerprint(contentType: contentType, body: request.body)
            } catch {
                throw APIError(error)
            }
            guard fingerprint == original else {
                throw APIError(.unprocessableContent, code: "idempotency_mismatch", message: "this Idempotency-Key was used with a different form (other fields or files)")
            }
            guard let receipt = try await database.upload(id: uploadID) else { throw APIError.notFound("upload \(uploadID)") }
            var response = Self.created(receipt)
            response.headers[HTTPField.Name("Idempotent-Replayed")!] = "true"
            return response
        case .acquired:
            do {
                // The key is completed in the transaction that records the upload.
                let receipt = try await ingest(
                    contentType: contentType, body: request.body, knowledgeBase: knowledgeBase,
                    idempotency: IdempotencyCompletion(knowledgeBase: knowledgeBase, key: key))
                return Self.created(receipt)
            } catch {
                await service.idempotencyReleases.release(knowledgeBase: knowledgeBase, key: key)
                throw error
            }
        }
    }

    /// The API key's knowledge base; without keys, `?knowledge_base=NAME` (``KnowledgeBaseName``)
    /// or `default`.
    static func knowledgeBase(_ request: Request, key: String?) throws -> String {
        let requested = request.uri.queryParameters.get("knowledge_base")
        if let key {
            guard requested == nil || requested == key else {
                throw APIError(.forbidden, code: "forbidden", message: "this API key uploads into knowledge base '\(key)' only", closesConnection: true)
            }
            return key
        }
        guard let requested else { return KnowledgeBaseName.default.value }
        guard let name = KnowledgeBaseName(String(requested)) else {
            throw APIError(.badRequest, code: "invalid_knowledge_base", message: "knowledge_base must be \(KnowledgeBaseName.rule)", closesConnection: true)
        }
        return name.value
    }
}

extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (self >= 0x30 && self <= 0x39) || (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A)
    }
}
