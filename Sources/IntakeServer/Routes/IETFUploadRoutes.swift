import Foundation
import HTTPTypes
import Hummingbird
import Ingest
import Multipart

/// The IETF resumable-upload protocol (draft-ietf-httpbis-resumable-upload, interop versions
/// ``interopVersions``) at `/files/`, on the uploads ``ResumableUploads`` keeps, beside tus:
///
/// - creation: `POST /files` with `Upload-Complete` (`?1`: the body is the whole file; `?0`: a
///   first piece of it), the file's type in `Content-Type`, its name in `Content-Disposition`;
///   a client that says `Upload-Draft-Interop-Version` gets `104 (Upload Resumption Supported)`
///   with the upload's `Location` before its body is read;
/// - offset retrieval: `HEAD /files/{id}` (`Upload-Offset`, `Upload-Complete: ?0`, `Upload-Length`
///   once known, `Upload-Limit`);
/// - append: `PATCH /files/{id}` with `Content-Type: application/partial-upload`, `Upload-Offset`
///   and `Upload-Complete`; a wrong offset gets 409 with the right one;
/// - cancellation: `DELETE /files/{id}`;
/// - limits: `Upload-Limit` (`max-size` when a file size limit is set, `max-age`).
///
/// The request that completes the upload gets what `POST /uploads` answers (201, `Location:
/// /uploads/{id}`, the upload) or its refusal (415 for a refused type), with `Upload-Complete: ?1`.
struct IETFUploadRoutes {
    let uploads: ResumableUploads

    /// The draft's interop versions this server speaks: 10 (draft 13, October 2026, and the
    /// drafts after it) and 9 (draft 12), which differ in nothing this server does: it already
    /// sends `Upload-Limit` with every offset, and its final answers mean what version 10 says.
    /// A 104 carries the version the request named.
    static let interopVersions: Set<Int> = [9, 10]
    static let mediaType = "application/partial-upload"

    static let completeField = HTTPField.Name("Upload-Complete")!
    static let offsetField = HTTPField.Name("Upload-Offset")!
    static let lengthField = HTTPField.Name("Upload-Length")!
    static let limitField = HTTPField.Name("Upload-Limit")!
    static let interopField = HTTPField.Name("Upload-Draft-Interop-Version")!

    /// Whether `request` creates an upload in this protocol (it says `Upload-Complete`).
    static func speaks(_ request: Request) -> Bool {
        request.headers[completeField] != nil
    }

    /// Whether `contentType` is `application/partial-upload` (parameters aside).
    static func isPartialUpload(_ contentType: String) -> Bool {
        contentType.split(separator: ";", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces).lowercased() == mediaType
    }

    /// The fields of `OPTIONS /files`.
    var capabilities: HTTPFields {
        [Self.limitField: limits(maxAge: ResumableUploads.lifetime)]
    }

    /// The IETF fields of a `HEAD` answer that tus's do not have already (`Upload-Offset`,
    /// `Upload-Length`).
    func state(of upload: ResumableUpload) -> HTTPFields {
        [Self.completeField: "?0", Self.limitField: limits(of: upload)]
    }

    /// `Upload-Limit`: `max-size` when there is a file size limit, `max-age` always.
    func limits(maxAge: TimeInterval) -> String {
        let age = "max-age=\(max(0, Int(maxAge)))"
        guard let limit = uploads.service.configuration.limits.fileBytes else { return "min-size=0, " + age }
        return "max-size=\(limit), " + age
    }

    func limits(of upload: ResumableUpload) -> String {
        limits(maxAge: upload.expiresAt.timeIntervalSince(uploads.service.configuration.clock.now))
    }

    func create(_ request: Request, _ context: IntakeRequestContext) async throws -> Response {
        try await answering {
            guard let completes = Self.boolean(request.headers[Self.completeField]) else {
                throw APIError(.badRequest, code: "invalid_upload_complete", message: "Upload-Complete must be ?1 (the body is the whole file) or ?0 (a first piece)", closesConnection: true)
            }
            let knowledgeBase = try UploadRoutes.knowledgeBase(request, key: context.knowledgeBase)
            let length = try Self.length(request, offset: 0, completes: completes)
            var filename: String?
            if let disposition = request.headers[.contentDisposition] {
                do throws(MultipartError) {
                    filename = try ContentDisposition.filename(disposition)
                } catch {
                    throw APIError(.badRequest, code: "invalid_content_disposition", message: error.description, closesConnection: true)
                }
            }
            let upload = try await uploads.create(
                knowledgeBase: knowledgeBase, length: length, filename: filename, declaredType: request.headers[.contentType], fields: [])
            let location = "/files/\(upload.id)"
            // Only a client of an interop version spoken here may be sent 104 (the draft's rule).
            let version = Self.spokenVersion(request)
            if let version {
                await context.sendInterim(
                    HTTPResponse(
                        status: HTTPResponse.Status(code: 104, reasonPhrase: "Upload Resumption Supported"),
                        headerFields: [.location: location, Self.interopField: "\(version)", Self.limitField: limits(of: upload)]))
            }
            let append = ResumableUploads.Append(offset: 0, length: length, completes: completes, completesOnlyWhenSaid: true, progressVersion: version)
            switch try await uploads.append(upload, append, request, context) {
            case .appended(let now):
                return Response(
                    status: .created,
                    headers: [
                        .location: location, Self.completeField: "?0", Self.offsetField: "\(now.offset)", Self.limitField: limits(of: now),
                    ])
            case .completed(let receipt):
                return Self.completed(receipt)
            }
        }
    }

    func append(_ request: Request, _ context: IntakeRequestContext) async throws -> Response {
        try await answering {
            let upload = try await uploads.owned(context)
            guard let offset = Self.integer(request.headers[Self.offsetField]) else {
                throw APIError(.badRequest, code: "invalid_offset", message: "an append needs Upload-Offset: the number of bytes the server has", closesConnection: true)
            }
            guard let completes = Self.boolean(request.headers[Self.completeField]) else {
                throw APIError(.badRequest, code: "invalid_upload_complete", message: "an append needs Upload-Complete: ?1 when its body ends the file, ?0 otherwise", closesConnection: true)
            }
            let length = try Self.length(request, offset: offset, completes: completes)
            let append = ResumableUploads.Append(
                offset: offset, length: length, completes: completes, completesOnlyWhenSaid: true, progressVersion: Self.spokenVersion(request))
            switch try await uploads.append(upload, append, request, context) {
            case .appended(let now):
                return Response(status: .noContent, headers: [Self.completeField: "?0", Self.offsetField: "\(now.offset)", Self.limitField: limits(of: now)])
            case .completed(let receipt):
                return Self.completed(receipt)
            }
        }
    }

    /// The interop version `request` names, if this server speaks it.
    static func spokenVersion(_ request: Request) -> Int? {
        integer(request.headers[interopField]).map(Int.init).flatMap { interopVersions.contains($0) ? $0 : nil }
    }

    /// What `POST /uploads` answers, marked as the end of the upload.
    private static func completed(_ receipt: UploadReceipt) -> Response {
        var response = UploadRoutes.created(receipt)
        response.headers[completeField] = "?1"
        return response
    }

    /// Runs `body`, marking its refusals: `Upload-Complete: ?1` for the refusal of the completed
    /// file (the answer of `POST /uploads`), `?0` for the others (the upload goes on), and the limits.
    private func answering(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let refused as ResumableUploads.CompletionRefused {
            throw AfterTheBody(marked(refused.error, complete: true))
        } catch let error as AfterTheBody {
            throw AfterTheBody(marked(error.error, complete: false))
        } catch let error as APIError {
            throw marked(error, complete: false)
        }
    }

    private func marked(_ error: APIError, complete: Bool) -> APIError {
        var error = error
        error.extraHeaders[Self.completeField] = complete ? "?1" : "?0"
        error.extraHeaders[Self.limitField] = limits(maxAge: ResumableUploads.lifetime)
        return error
    }

    /// The file's length as the request tells it: `Upload-Length`, or (with `Upload-Complete: ?1`)
    /// `offset` and the `Content-Length`; 400 when both are there and differ.
    static func length(_ request: Request, offset: Int64, completes: Bool) throws -> Int64? {
        var length: Int64?
        if let text = request.headers[lengthField] {
            guard let told = integer(text) else {
                throw APIError(.badRequest, code: "invalid_length", message: "Upload-Length must be a number of bytes", closesConnection: true)
            }
            length = told
        }
        if completes, let contentLength = request.headers[.contentLength].flatMap(Int64.init) {
            if let length, length != offset + contentLength {
                throw APIError(
                    .badRequest, code: "inconsistent_length",
                    message: "Upload-Length says \(length) bytes, but the body ends the file at \(offset + contentLength)", closesConnection: true)
            }
            length = offset + contentLength
        }
        return length
    }

    /// A Structured Field Boolean (`?1`, `?0`; parameters ignored), or nil.
    static func boolean(_ value: String?) -> Bool? {
        switch value?.split(separator: ";", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces) {
        case "?1": return true
        case "?0": return false
        default: return nil
        }
    }

    /// A non-negative Structured Field Integer (at most 15 digits; parameters ignored), or nil.
    static func integer(_ value: String?) -> Int64? {
        guard let text = value?.split(separator: ";", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces),
            (1...15).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { return nil }
        return Int64(text)
    }
}
