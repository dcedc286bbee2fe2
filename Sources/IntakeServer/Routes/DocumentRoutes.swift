import Foundation
import HTTPTypes
import Hummingbird
import Ingest

/// `GET /documents`, `GET /documents/{id}` and its content and chunks, `DELETE`, reprocess.
struct DocumentRoutes {
    let service: IntakeService

    func add(to router: Router<IntakeRequestContext>) {
        router.get("documents") { request, context in try await list(request, context) }
        router.get("documents/:id") { _, context in
            let record = try await document(context)
            let job = try await service.database.job(documentID: record.id)
            var document = APIModels.Document(record, detail: job, detailed: true)
            // Its metadata: the fields of its upload.
            let fields = try await service.database.upload(id: record.uploadID)?.fields ?? []
            document.fields = Dictionary(grouping: fields, by: \.name).mapValues { $0.map(\.value) }
            return try jsonResponse(.ok, document)
        }
        router.get("documents/:id/content") { request, context in try await content(request, context) }
        router.get("documents/:id/chunks") { _, context -> Response in
            let record = try await document(context)
            let chunks = try await service.database.chunks(documentID: record.id)
            return try jsonResponse(.ok, APIModels.ChunkList(chunks: chunks.map(APIModels.Chunk.init)))
        }
        router.delete("documents/:id") { _, context -> Response in
            let record = try await document(context)
            guard try await service.ingestor.deleteDocument(id: record.id) else { throw APIError.notFound("document \(record.id)") }
            return Response(status: .noContent)
        }
        router.post("documents/:id/reprocess") { _, context -> Response in
            let record = try await document(context)
            guard try await service.database.enqueue(documentID: record.id) else {
                throw APIError(.conflict, code: "in_progress", message: "document \(record.id) is being processed now; retry when it is done")
            }
            let queued = try await document(context)
            return try jsonResponse(.accepted, APIModels.Document(queued))
        }
    }

    /// The document named in the path, if the request's key may see it.
    private func document(_ context: IntakeRequestContext) async throws -> DocumentRecord {
        let id = try context.parameters.require("id")
        guard let record = try await service.database.document(id: id) else { throw APIError.notFound("document \(id)") }
        if let knowledgeBase = context.knowledgeBase, try await service.database.knowledgeBase(ofDocument: id) != knowledgeBase {
            throw APIError.notFound("document \(id)")
        }
        return record
    }

    private func list(_ request: Request, _ context: IntakeRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        var query = DocumentQuery(knowledgeBase: context.knowledgeBase)
        if parameters.get("knowledge_base") != nil {
            // The key's own, or (without keys) any valid name: the rules of POST /uploads.
            query.knowledgeBase = try UploadRoutes.knowledgeBase(request, key: context.knowledgeBase)
        }
        if let status = parameters.get("status") {
            guard let parsed = DocumentStatus(rawValue: status) else {
                throw APIError(.badRequest, code: "invalid_query", message: "status must be one of \(DocumentStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.status = parsed
        }
        if let sha256 = parameters.get("sha256") {
            guard BlobDigest.isValid(sha256) else {
                throw APIError(.badRequest, code: "invalid_query", message: "sha256 must be 64 lowercase hex digits")
            }
            query.sha256 = sha256
        }
        if let limit = parameters.get("limit") {
            guard let parsed = Int(limit), (1...1000).contains(parsed) else {
                throw APIError(.badRequest, code: "invalid_query", message: "limit must be a number from 1 to 1000")
            }
            query.limit = parsed
        }
        if let order = parameters.get("order") {
            guard order == "newest" || order == "oldest" else {
                throw APIError(.badRequest, code: "invalid_query", message: "order must be newest or oldest (the default)")
            }
            query.newestFirst = order == "newest"
        }
        query.cursor = parameters.get("cursor")
        query.filter = try DocumentFilterParameters.filter(request)
        do {
            let page = try await service.database.documents(query)
            return try jsonResponse(.ok, APIModels.DocumentList(documents: page.documents.map { APIModels.Document($0) }, nextCursor: page.nextCursor))
        } catch is InvalidCursor {
            throw APIError(.badRequest, code: "invalid_query", message: "cursor is not one this server gave out")
        }
    }

    /// Streams the stored bytes from the blob store, all of them or the one range asked for,
    /// labelled with the detected type and never sniffed by browsers.
    private func content(_ request: Request, _ context: IntakeRequestContext) async throws -> Response {
        let record = try await document(context)
        var headers: HTTPFields = [
            .contentType: record.detectedType + (record.charset.map { $0 == "binary" ? "" : "; charset=\($0)" } ?? ""),
            .contentDisposition: Self.attachment(filename: record.filename ?? record.id),
            .init("X-Content-Type-Options")!: "nosniff",
            .acceptRanges: "bytes",
        ]
        let wanted = ByteRangeRequest(header: request.headers[.range], size: record.size)
        if wanted == .unsatisfiable {
            var error = APIError(.rangeNotSatisfiable, code: "range_not_satisfiable", message: "no byte of the range asked for is among the document's \(record.size)")
            error.extraHeaders[.contentRange] = "bytes */\(record.size)"
            throw error
        }
        let range: Range<Int>? = if case .part(let part) = wanted { part } else { nil }
        guard let content = try await readBlob(record.sha256, range: range) else {
            throw APIError(.internalServerError, code: "content_missing", message: "the bytes of document \(record.id) are missing from the blob store")
        }
        headers[.contentLength] = String(content.range.count)
        if range != nil { headers[.contentRange] = "bytes \(content.range.lowerBound)-\(content.range.upperBound - 1)/\(content.size)" }
        return Response(status: range == nil ? .ok : .partialContent, headers: headers, body: ResponseBody(asyncSequence: content.bytes))
    }

    /// The blob's bytes; a failure of the blob store as the answer to a failed upload would get.
    private func readBlob(_ sha256: String, range: Range<Int>?) async throws(APIError) -> BlobContent? {
        do {
            return try await service.blobs.read(sha256, range: range)
        } catch {
            throw APIError(IngestError.storage(error))
        }
    }

    /// `attachment` with an ASCII fallback `filename` and the exact name as RFC 8187 `filename*`:
    /// the client's string never reaches the header unescaped.
    static func attachment(filename: String) -> String {
        let fallback = String(
            filename.unicodeScalars.map { scalar -> Character in
                scalar.isASCII && scalar.value >= 0x20 && scalar != "\"" && scalar != "\\" && scalar.value != 0x7F ? Character(scalar) : "_"
            })
        var encoded = ""
        for byte in filename.utf8 {
            if byte.isASCIIAlphanumeric || "!#$&+-.^_`|~".utf8.contains(byte) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += String(format: "%%%02X", byte)
            }
        }
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}
