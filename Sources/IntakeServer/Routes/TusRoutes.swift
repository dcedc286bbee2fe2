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
/// the piece dropped on a mismatch) and expiration (`Upload-Expires`;
/// ``IntakeService/sweepExpiredResumableUploads()``), on the uploads ``ResumableUploads`` keeps.
/// A completed upload's last answer names the upload it made (`Location: /uploads/{id}`); a
/// refused file answers as `POST /uploads` does and nothing is kept.
struct TusRoutes {
    let uploads: ResumableUploads

    static let version = "1.0.0"
    static let extensions = "creation,creation-with-upload,creation-defer-length,termination,checksum,expiration"
    static let versionField = HTTPField.Name("Tus-Resumable")!

    /// The fields of `OPTIONS /files`.
    var capabilities: HTTPFields {
        Self.tus([
            HTTPField.Name("Tus-Version")!: Self.version,
            HTTPField.Name("Tus-Extension")!: Self.extensions,
            HTTPField.Name("Tus-Max-Size")!: "\(uploads.service.configuration.limits.fileBytes ?? Int.max)",
            HTTPField.Name("Tus-Checksum-Algorithm")!: ResumableFiles.ChecksumAlgorithm.allCases.map(\.rawValue).joined(separator: ","),
        ])
    }

    /// Whether `request` speaks tus (it says `Tus-Resumable`).
    static func speaks(_ request: Request) -> Bool {
        request.headers[versionField] != nil
    }

    /// The tus fields of a `HEAD` answer.
    static func state(of upload: ResumableUpload) -> HTTPFields {
        var headers = tus([HTTPField.Name("Upload-Offset")!: "\(upload.offset)"])
        if let length = upload.length {
            headers[HTTPField.Name("Upload-Length")!] = "\(length)"
        } else {
            headers[HTTPField.Name("Upload-Defer-Length")!] = "1"
        }
        return headers
    }

    func patch(_ request: Request, _ context: IntakeRequestContext) async throws -> Response {
        try await answering {
            let upload = try await uploads.owned(context)
            try Self.requireTus(request)
            guard request.headers[.contentType] == "application/offset+octet-stream" else {
                throw APIError(.unsupportedMediaType, code: "not_offset_octet_stream", message: "PATCH takes Content-Type: application/offset+octet-stream", closesConnection: true)
            }
            guard let offset = request.headers[HTTPField.Name("Upload-Offset")!].flatMap(Int64.init), offset >= 0 else {
                throw APIError(.badRequest, code: "invalid_offset", message: "PATCH needs Upload-Offset: the number of bytes the server has", closesConnection: true)
            }
            let length = try Self.declaredLength(request, deferred: upload.length == nil)
            return try await append(upload, ResumableUploads.Append(offset: offset, length: length, checksum: try Self.checksum(request)), request, context)
        }
    }

    func create(_ request: Request, _ context: IntakeRequestContext) async throws -> Response {
        try await answering {
            try Self.requireTus(request)
            let knowledgeBase = try UploadRoutes.knowledgeBase(request, key: context.knowledgeBase)
            let length = try Self.declaredLength(request, deferred: true)
            let deferred = request.headers[HTTPField.Name("Upload-Defer-Length")!] == "1"
            guard length != nil || deferred else {
                throw APIError(.badRequest, code: "invalid_length", message: "creation needs Upload-Length, or Upload-Defer-Length: 1", closesConnection: true)
            }
            let metadata = try TusMetadata(request.headers[HTTPField.Name("Upload-Metadata")!] ?? "")
            let upload = try await uploads.create(
                knowledgeBase: knowledgeBase, length: length, filename: metadata.filename, declaredType: metadata.filetype, fields: metadata.fields)
            var headers = Self.tus([.location: "/files/\(upload.id)", HTTPField.Name("Upload-Expires")!: Self.httpDate(upload.expiresAt)])
            // creation-with-upload: the first bytes come with the creation; an empty upload is
            // complete as soon as it is made.
            guard request.headers[.contentType] == "application/offset+octet-stream" || length == 0 else {
                return Response(status: .created, headers: headers)
            }
            let appended = try await append(upload, ResumableUploads.Append(offset: 0, checksum: try Self.checksum(request)), request, context)
            for field in appended.headers where field.name != .location {
                headers[field.name] = field.value
            }
            return Response(status: .created, headers: headers, body: appended.body)
        }
    }

    /// tus's answer to an append: 204 with the new offset, and the upload made when it was the last.
    private func append(_ upload: ResumableUpload, _ append: ResumableUploads.Append, _ request: Request, _ context: IntakeRequestContext) async throws -> Response {
        switch try await uploads.append(upload, append, request, context) {
        case .appended(let now):
            return Response(
                status: .noContent,
                headers: Self.tus([
                    HTTPField.Name("Upload-Offset")!: "\(now.offset)", HTTPField.Name("Upload-Expires")!: Self.httpDate(now.expiresAt),
                ]))
        case .completed(let receipt):
            let size = receipt.documents.reduce(Int64(0)) { $0 + Int64($1.size) }
            return Response(
                status: .noContent,
                headers: Self.tus([
                    HTTPField.Name("Upload-Offset")!: "\(size)", .location: "/uploads/\(receipt.id)",
                ]))
        }
    }

    /// Runs `body`, giving its refusals the tus version field.
    private func answering(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let refused as ResumableUploads.CompletionRefused {
            throw AfterTheBody(Self.marked(refused.error))
        } catch let error as AfterTheBody {
            throw AfterTheBody(Self.marked(error.error))
        } catch let error as APIError {
            throw Self.marked(error)
        }
    }

    private static func marked(_ error: APIError) -> APIError {
        var error = error
        error.extraHeaders[versionField] = version
        return error
    }

    static let tusHeaders: HTTPFields = [versionField: version]

    /// `Tus-Resumable` and `extra`.
    static func tus(_ extra: HTTPFields) -> HTTPFields {
        var headers = tusHeaders
        headers.append(contentsOf: extra)
        return headers
    }

    /// 412 unless the request speaks tus 1.0.0.
    static func requireTus(_ request: Request) throws {
        guard request.headers[versionField] == version else {
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
