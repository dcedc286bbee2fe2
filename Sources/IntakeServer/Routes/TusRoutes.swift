import Foundation
import HTTPTypes
import Hummingbird
import Ingest
import IntakeRuntime
import Multipart
import MultipartNIO
import NIOCore

/// tus 1.0.0 at `/files/` (https://tus.io/protocols/resumable-upload): the core protocol
/// (`HEAD` for the offset, `PATCH` with `application/offset+octet-stream`), creation,
/// creation-with-upload, creation-defer-length, termination, checksum (`sha1`, `sha256`; 460 and
/// the piece dropped on a mismatch) and expiration (`Upload-Expires`; ``IntakeService/sweepExpiredResumableUploads()``). The state is in the store
/// (``ResumableUploadStore``), the bytes in ``ResumableFiles``; an offset is reported only once
/// its bytes are synced. When the last byte is in, the file goes through the same pipeline as a
/// part of `POST /uploads` (sniffing, type policy, limits, durable blob, queued document) and the
/// answer names the upload it made (`Location: /uploads/{id}`); a refused file answers as
/// `POST /uploads` does and nothing is kept.
struct TusRoutes {
    let service: IntakeService
    let files: ResumableFiles

    static let version = "1.0.0"
    static let extensions = "creation,creation-with-upload,creation-defer-length,termination,checksum,expiration"
    /// How long an upload with no append is kept.
    static let lifetime: TimeInterval = 24 * 3600
    /// How long one append holds its upload (a node that dies mid-append holds it no longer).
    static let appendLease: TimeInterval = 15 * 60
    /// How often a running append renews its hold.
    static let appendRenewal: TimeInterval = 60

    func add(to router: Router<IntakeRequestContext>) {
        router.on("files", method: .options) { _, _ in
            Response(status: .noContent, headers: Self.tus([
                HTTPField.Name("Tus-Version")!: Self.version,
                HTTPField.Name("Tus-Extension")!: Self.extensions,
                HTTPField.Name("Tus-Max-Size")!: "\(service.configuration.limits.fileBytes ?? Int.max)",
                HTTPField.Name("Tus-Checksum-Algorithm")!: ResumableFiles.ChecksumAlgorithm.allCases.map(\.rawValue).joined(separator: ","),
            ]))
        }
        router.post("files") { request, context in try await Self.refusingUnread(request) { try await create(request, context) } }
        router.on("files/:id", method: .head) { _, context in
            let upload = try await owned(context)
            var headers = Self.tus([.cacheControl: "no-store", HTTPField.Name("Upload-Offset")!: "\(upload.offset)"])
            if let length = upload.length {
                headers[HTTPField.Name("Upload-Length")!] = "\(length)"
            } else {
                headers[HTTPField.Name("Upload-Defer-Length")!] = "1"
            }
            return Response(status: .ok, headers: headers)
        }
        router.patch("files/:id") { request, context in
            try await Self.refusingUnread(request) { try await patch(request, context) }
        }
        router.delete("files/:id") { _, context in
            let upload = try await owned(context)
            try await service.database.removeResumableUpload(id: upload.id)
            files.remove(upload.id)
            return Response(status: .noContent, headers: Self.tusHeaders)
        }
    }

    /// Runs `body`; a refusal it throws before reading the request's body keeps the connection
    /// open when that body is small and already on its way (read and dropped here), and closes it
    /// otherwise: tus clients ask HEAD next, on the same connection.
    static func refusingUnread(_ request: Request, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as AfterTheBody {
            throw error.error
        } catch var error as APIError {
            // No Content-Length and no Transfer-Encoding: no body at all.
            let declared = request.headers[.contentLength].flatMap(Int.init) ?? (request.headers[.transferEncoding] == nil ? 0 : nil)
            guard declared != 0 else {
                error.closesConnection = false
                throw error
            }
            // A body left unread would be taken for the next request: it is read and dropped, or
            // the connection closes.
            var request = request
            if request.headers[.expect] == nil, declared ?? 0 <= 1 << 20, (try? await request.collectBody(upTo: 1 << 20)) != nil {
                error.closesConnection = false
            } else {
                error.closesConnection = true
            }
            throw error
        }
    }

    private func patch(_ request: Request, _ context: IntakeRequestContext) async throws -> Response {
            let upload = try await owned(context)
            try Self.requireTus(request)
            guard request.headers[.contentType] == "application/offset+octet-stream" else {
                throw APIError(.unsupportedMediaType, code: "not_offset_octet_stream", message: "PATCH takes Content-Type: application/offset+octet-stream", closesConnection: true)
            }
            guard let offset = request.headers[HTTPField.Name("Upload-Offset")!].flatMap(Int64.init), offset >= 0 else {
                throw APIError(.badRequest, code: "invalid_offset", message: "PATCH needs Upload-Offset: the number of bytes the server has", closesConnection: true)
            }
            let length = try Self.declaredLength(request, deferred: upload.length == nil)
            return try await append(upload, at: offset, length: length, request, context)
    }

    static let tusHeaders: HTTPFields = [HTTPField.Name("Tus-Resumable")!: version]

    /// `Tus-Resumable` and `extra`.
    static func tus(_ extra: HTTPFields) -> HTTPFields {
        var headers = tusHeaders
        headers.append(contentsOf: extra)
        return headers
    }

    /// 412 unless the request speaks tus 1.0.0.
    static func requireTus(_ request: Request) throws {
        guard request.headers[HTTPField.Name("Tus-Resumable")!] == version else {
            var error = APIError(.preconditionFailed, code: "tus_version", message: "this server speaks tus \(version) (Tus-Resumable: \(version))", closesConnection: true)
            error.extraHeaders = [HTTPField.Name("Tus-Version")!: version]
            throw error
        }
    }

    /// `Upload-Length` when the request may set it (creation, or the append of an upload whose
    /// length was deferred).
    static func declaredLength(_ request: Request, deferred: Bool) throws -> Int64? {
        guard let text = request.headers[HTTPField.Name("Upload-Length")!] else { return nil }
        guard deferred else {
            throw APIError(.badRequest, code: "invalid_length", message: "Upload-Length is set already", closesConnection: true)
        }
        guard let length = Int64(text), length >= 0 else {
            throw APIError(.badRequest, code: "invalid_length", message: "Upload-Length must be a number of bytes", closesConnection: true)
        }
        return length
    }

    /// tus `Upload-Checksum: ALGORITHM BASE64`, if sent: 400 for an algorithm not spoken here.
    static func checksum(_ request: Request) throws -> (algorithm: ResumableFiles.ChecksumAlgorithm, digest: [UInt8])? {
        guard let header = request.headers[HTTPField.Name("Upload-Checksum")!] else { return nil }
        let pieces = header.split(separator: " ", maxSplits: 1)
        guard pieces.count == 2, let algorithm = ResumableFiles.ChecksumAlgorithm(rawValue: pieces[0].lowercased()),
              let digest = Data(base64Encoded: String(pieces[1]))
        else {
            throw APIError(.badRequest, code: "invalid_checksum", message: "Upload-Checksum must be sha1 or sha256 and a base64 digest", closesConnection: true)
        }
        return (algorithm, Array(digest))
    }

    /// The upload named in the path, if the request's key may see it (404 otherwise, as for documents).
    private func owned(_ context: IntakeRequestContext) async throws -> ResumableUpload {
        let id = try context.parameters.require("id")
        guard ResumableFiles.isValid(id), let upload = try await service.database.resumableUpload(id: id),
              context.knowledgeBase == nil || context.knowledgeBase == upload.knowledgeBase
        else { throw APIError.notFound("upload \(id)") }
        // Past its expiry an upload is gone, swept or not.
        guard upload.expiresAt > service.configuration.clock.now else { throw APIError.notFound("upload \(id)") }
        return upload
    }

    private func create(_ request: Request, _ context: IntakeRequestContext) async throws -> Response {
        try Self.requireTus(request)
        let knowledgeBase = try UploadRoutes.knowledgeBase(request, key: context.knowledgeBase)
        let length = try Self.declaredLength(request, deferred: true)
        let deferred = request.headers[HTTPField.Name("Upload-Defer-Length")!] == "1"
        guard length != nil || deferred else {
            throw APIError(.badRequest, code: "invalid_length", message: "creation needs Upload-Length, or Upload-Defer-Length: 1", closesConnection: true)
        }
        if let length, let limit = service.configuration.limits.fileBytes, length > Int64(limit) {
            throw APIError(.contentTooLarge, code: "limit_exceeded", message: "the file is \(length) bytes; the limit is \(limit)", closesConnection: true)
        }
        let metadata = try TusMetadata(request.headers[HTTPField.Name("Upload-Metadata")!] ?? "")
        let now = service.configuration.clock.now
        let upload = ResumableUpload(
            id: ResumableFiles.newID(), knowledgeBase: knowledgeBase, length: length, filename: metadata.filename,
            declaredType: metadata.filetype, fields: metadata.fields, createdAt: now, expiresAt: now.addingTimeInterval(Self.lifetime))
        do throws(StorageError) {
            try files.create(upload.id)
        } catch {
            throw APIError(IngestError.storage(error))
        }
        do {
            try await service.database.createResumableUpload(upload)
        } catch {
            // No row, no file: a creation the store refused leaves nothing on disk.
            files.remove(upload.id)
            throw error
        }
        var headers = Self.tus([.location: "/files/\(upload.id)", HTTPField.Name("Upload-Expires")!: Self.httpDate(upload.expiresAt)])
        // creation-with-upload: the first bytes come with the creation.
        if request.headers[.contentType] == "application/offset+octet-stream" {
            let appended = try await append(upload, at: 0, length: nil, request, context)
            for field in appended.headers where field.name != .location || appended.status != .created {
                headers[field.name] = field.value
            }
            return Response(status: appended.status == .noContent ? .created : appended.status, headers: headers, body: appended.body)
        }
        return Response(status: .created, headers: headers)
    }

    /// Appends the request's body at `offset`; completes the upload when its last byte is in.
    private func append(_ upload: ResumableUpload, at offset: Int64, length: Int64?, _ request: Request, _ context: IntakeRequestContext) async throws -> Response {
        let clock = service.configuration.clock
        // This append's own claim: the node's name (a restarted node ends its claims) and a token,
        // so that a second request on the same node never passes for the first.
        let node = "\(service.configuration.node.name) \(RandomIdentifier.hex(16))"
        let claimed: ResumableUpload
        do {
            claimed = try await service.database.beginResumableAppend(
                id: upload.id, at: offset, node: node, leaseUntil: clock.now.addingTimeInterval(Self.appendLease))
        } catch let conflict as ResumableUploadConflict {
            var error = APIError(
                .conflict, code: conflict.reason == .offsetMismatch ? "offset_mismatch" : "append_in_progress",
                message: conflict.reason == .offsetMismatch
                    ? "the upload has \(conflict.offset) bytes: send from there (Upload-Offset: \(conflict.offset))"
                    : "another request is appending to this upload; ask HEAD for the offset when it ends",
                closesConnection: true)
            error.extraHeaders = Self.tus([HTTPField.Name("Upload-Offset")!: "\(conflict.offset)"])
            throw error
        }
        let total = claimed.length ?? length
        if let total, let limit = service.configuration.limits.fileBytes, total > Int64(limit) {
            _ = try? await service.database.finishResumableAppend(id: upload.id, node: node, offset: offset, length: nil, expiresAt: claimed.expiresAt)
            throw APIError(.contentTooLarge, code: "limit_exceeded", message: "the file is \(total) bytes; the limit is \(limit)", closesConnection: true)
        }
        let checksum: (algorithm: ResumableFiles.ChecksumAlgorithm, digest: [UInt8])?
        do {
            checksum = try Self.checksum(request)
        } catch {
            _ = try? await service.database.finishResumableAppend(id: upload.id, node: node, offset: offset, length: nil, expiresAt: claimed.expiresAt)
            throw error
        }
        await context.expectBody()
        let room = total.map { $0 - offset } ?? service.configuration.limits.fileBytes.map { Int64($0) - offset }
        let appended: ResumableFiles.Appended
        do throws(StorageError) {
            // The claim is renewed while bytes come (a minute after the last renewal, before the next
            // write): an append that stalls past its lease finds the upload taken and writes no more.
            var renewed = clock.now
            appended = try await files.append(upload.id, at: offset, limit: room, checksum: checksum?.algorithm, body: request.body) {
                guard clock.now.timeIntervalSince(renewed) >= Self.appendRenewal else { return }
                try await service.database.renewResumableAppend(id: upload.id, node: node, leaseUntil: clock.now.addingTimeInterval(Self.appendLease))
                renewed = clock.now
            }
        } catch {
            _ = try? await service.database.finishResumableAppend(id: upload.id, node: node, offset: offset, length: nil, expiresAt: claimed.expiresAt)
            throw AfterTheBody(APIError(IngestError.storage(error)))
        }
        if appended.failure is ResumableUploadNotFound {
            throw AfterTheBody(APIError.notFound("upload \(upload.id)"))
        }
        if let conflict = appended.failure as? ResumableUploadConflict {
            throw AfterTheBody(APIError(
                .conflict, code: "append_in_progress",
                message: "this request stalled past its hold on the upload and another took it; ask HEAD for the offset (it had \(conflict.offset))",
                closesConnection: true))
        }
        // A piece whose checksum is not the one sent is dropped whole (460): the offset stays.
        if let checksum, appended.failure == nil, appended.digest != checksum.digest {
            _ = try await service.database.finishResumableAppend(id: upload.id, node: node, offset: offset, length: nil, expiresAt: claimed.expiresAt)
            var mismatch = APIError(
                HTTPResponse.Status(code: 460, reasonPhrase: "Checksum Mismatch"), code: "checksum_mismatch",
                message: "the piece's \(checksum.algorithm.rawValue) is not the Upload-Checksum sent; it was dropped: send it again from \(offset)")
            mismatch.extraHeaders = Self.tus([HTTPField.Name("Upload-Offset")!: "\(offset)"])
            throw AfterTheBody(mismatch)
        }
        // The bytes are synced: now the offset may move, and be reported.
        let now = try await service.database.finishResumableAppend(
            id: upload.id, node: node, offset: appended.offset, length: length, expiresAt: clock.now.addingTimeInterval(Self.lifetime))
        if appended.failure is ResumableAppendTooLong {
            throw AfterTheBody(APIError(.contentTooLarge, code: "limit_exceeded", message: "the body goes past the upload's \(total ?? 0) bytes", closesConnection: true))
        }
        if let failure = appended.failure { throw failure }
        var headers = Self.tus([HTTPField.Name("Upload-Offset")!: "\(now.offset)", HTTPField.Name("Upload-Expires")!: Self.httpDate(now.expiresAt)])
        guard now.isComplete else { return Response(status: .noContent, headers: headers) }
        let receipt = try await complete(now)
        headers[.location] = "/uploads/\(receipt.id)"
        return Response(status: .noContent, headers: headers)
    }

    /// The whole file through the pipeline of `POST /uploads`, as the one file part of a form
    /// whose other parts are the upload's fields. The upload's state and file go whatever the
    /// outcome: a refused file is not kept.
    private func complete(_ upload: ResumableUpload) async throws -> UploadReceipt {
        defer { files.remove(upload.id) }
        var parts = upload.fields.map { MultipartFormPart.field($0.name, $0.value) }
        parts.append(.file("file", path: files.path(upload.id), filename: upload.filename ?? "", contentType: upload.declaredType ?? "application/octet-stream", chunkSize: 1 << 20))
        let body = MultipartBody(parts: parts)
        do throws(IngestError) {
            let receipt = try await service.ingestor.ingest(contentType: body.contentType, body: body, knowledgeBase: upload.knowledgeBase)
            _ = try? await service.database.removeResumableUpload(id: upload.id)
            return receipt
        } catch {
            _ = try? await service.database.removeResumableUpload(id: upload.id)
            // The whole body was read: the connection can serve the next request.
            var refusal = APIError(error)
            refusal.closesConnection = false
            throw AfterTheBody(refusal)
        }
    }

    /// An HTTP date (RFC 9110 IMF-fixdate): `Thu, 03 Dec 2026 05:26:05 GMT`.
    static func httpDate(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}

/// A refusal made after the request's body was read (or partly read): it closes the
/// connection or not as it says, and is not drained again.
struct AfterTheBody: Error {
    var error: APIError
    init(_ error: APIError) { self.error = error }
}

/// tus `Upload-Metadata`: comma-separated `key base64value` pairs (a key alone for an empty value).
/// `filename` and `filetype` name the file; every other key is a form field of the upload.
struct TusMetadata {
    var filename: String?
    var filetype: String?
    var fields: [UploadField] = []

    init(_ header: String) throws {
        for pair in header.split(separator: ",") {
            let pieces = pair.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
            guard let key = pieces.first.map(String.init), !key.isEmpty else { continue }
            var value = ""
            if pieces.count == 2 {
                guard let data = Data(base64Encoded: String(pieces[1])), let text = String(data: data, encoding: .utf8) else {
                    throw APIError(.badRequest, code: "invalid_metadata", message: "Upload-Metadata values must be base64 of UTF-8 text (key \(key))", closesConnection: true)
                }
                value = text
            }
            switch key {
            case "filename": filename = value
            case "filetype": filetype = value
            default: fields.append(UploadField(name: key, value: value))
            }
        }
    }
}
