import Foundation
import AsyncHTTPClient
import MultipartNIO
import NIOCore
import NIOHTTP1

/// How ``RemoteTarget`` sends large files: in pieces with tus 1.0 (`/files/`), each piece
/// acknowledged once the server has synced it, the upload's URL remembered in a
/// ``ResumableUploadJournal`` so that a run interrupted mid-file (Ctrl-C, a lost connection, a
/// restarted server) is resumed by the next run from the server's offset.
public struct ResumableSending: Sendable {
    /// Files larger than this many bytes are sent in pieces.
    public var threshold: Int64
    /// The bytes of one piece (one PATCH).
    public var pieceSize: Int64
    public var journal: ResumableUploadJournal

    public init(threshold: Int64 = 64 << 20, pieceSize: Int64 = 16 << 20, journal: ResumableUploadJournal) {
        self.threshold = threshold
        self.pieceSize = max(pieceSize, 1)
        self.journal = journal
    }
}

extension RemoteTarget {
    /// Sends `upload`'s file with tus: resumes the upload the journal remembers (asking the
    /// server its offset), or creates one, then appends piece by piece; the last answer names
    /// the upload made, whose document is checked to hold the content that was hashed.
    func uploadInPieces(_ upload: UploadRequest, _ sending: ResumableSending, progress: ByteCounter) async throws(UploadFailure) -> String {
        let file = upload.file
        let key = ResumableUploadJournal.Key(server: server.absoluteString, knowledgeBase: knowledgeBase, canonicalPath: file.canonicalPath, sha256: upload.sha256)
        var offset: Int64 = 0
        var location = sending.journal.location(for: key)
        if let known = location {
            if let resumed = try await offsetOf(known, length: file.size) {
                offset = resumed
            } else {
                sending.journal.forget(key)
                location = nil
            }
        }
        if location == nil {
            let created = try await create(upload)
            // Without the journal the upload still goes ahead; it only cannot be resumed by another run.
            try? sending.journal.remember(created, for: key)
            location = created
        }
        guard let location else { throw UploadFailure(code: "bad_response", message: "no upload URL", isRetryable: false) }
        while true {
            let count = min(sending.pieceSize, file.size - offset)
            var request = HTTPClientRequest(url: absolute(location))
            request.method = .PATCH
            request.headers.add(name: "Tus-Resumable", value: "1.0.0")
            request.headers.add(name: "Upload-Offset", value: "\(offset)")
            request.headers.add(name: "Content-Type", value: "application/offset+octet-stream")
            addAuthorization(&request)
            let range = Int(offset)..<Int(offset + count)
            request.body = .stream(
                CountedBuffers(base: FileBuffers(path: file.path, range: range), progress: progress, rateLimit: rateLimit), length: .known(Int64(range.count)))
            let (status, headers, body) = try await send(request)
            switch status {
            case 204:
                if let made = headers.first(name: "Location"), made.contains("/uploads/") {
                    sending.journal.forget(key)
                    return try await documentID(at: made, of: upload)
                }
                guard let next = headers.first(name: "Upload-Offset").flatMap(Int64.init), next > offset, next < file.size else {
                    throw UploadFailure(status: status, code: "bad_response", message: "an append was answered without a new offset", isRetryable: false)
                }
                offset = next
            case 409:
                let failure = Self.failure(status: status, headers: headers, body: body)
                // Another offset than ours: the server's is the one to go on from.
                guard failure.code == "offset_mismatch", let next = headers.first(name: "Upload-Offset").flatMap(Int64.init), next != offset, next <= file.size else {
                    throw failure
                }
                offset = next
            case 404, 410:
                sending.journal.forget(key)
                throw UploadFailure(status: status, code: "upload_gone", message: "the server no longer has this file's upload; it starts again", isRetryable: true)
            default:
                throw Self.failure(status: status, headers: headers, body: body)
            }
        }
    }

    /// The offset of the upload at `location` (HEAD), or nil when the server no longer has it or
    /// it is not this file's (another length).
    private func offsetOf(_ location: String, length: Int64) async throws(UploadFailure) -> Int64? {
        var request = HTTPClientRequest(url: absolute(location))
        request.method = .HEAD
        request.headers.add(name: "Tus-Resumable", value: "1.0.0")
        addAuthorization(&request)
        let (status, headers, body) = try await send(request)
        switch status {
        case 200, 204:
            guard headers.first(name: "Upload-Length").flatMap(Int64.init) == length,
                let offset = headers.first(name: "Upload-Offset").flatMap(Int64.init), offset <= length
            else { return nil }
            return offset
        case 404, 410:
            return nil
        default:
            throw Self.failure(status: status, headers: headers, body: body)
        }
    }

    /// Creates the tus upload of `upload`'s file (its name, its type, the run's fields); returns its URL.
    private func create(_ upload: UploadRequest) async throws(UploadFailure) -> String {
        var metadata = [("filename", upload.file.filename), ("filetype", upload.declaredType)]
        for field in upload.fields {
            guard !field.name.isEmpty, !field.name.contains(where: { $0 == " " || $0 == "," }), field.name != "filename", field.name != "filetype" else {
                throw UploadFailure(
                    code: "invalid_field", message: "field '\(field.name)' cannot be sent with a file sent in pieces (no spaces or commas; not filename or filetype)", isRetryable: false)
            }
            metadata.append((field.name, field.value))
        }
        var request = HTTPClientRequest(url: url("files"))
        request.method = .POST
        request.headers.add(name: "Tus-Resumable", value: "1.0.0")
        request.headers.add(name: "Upload-Length", value: "\(upload.file.size)")
        request.headers.add(name: "Upload-Metadata", value: metadata.map { "\($0.0) \(Data($0.1.utf8).base64EncodedString())" }.joined(separator: ","))
        addAuthorization(&request)
        let (status, headers, body) = try await send(request)
        guard status == 201, let location = headers.first(name: "Location") else { throw Self.failure(status: status, headers: headers, body: body) }
        return location
    }

    /// The document of the upload at `location` (`GET /uploads/{id}`).
    private func documentID(at location: String, of upload: UploadRequest) async throws(UploadFailure) -> String {
        var request = HTTPClientRequest(url: absolute(location))
        request.method = .GET
        addAuthorization(&request)
        let (status, headers, body) = try await send(request)
        guard status == 200 else { throw Self.failure(status: status, headers: headers, body: body) }
        return try Self.documentID(in: body, status: status, of: upload, answeredBy: "GET \(location)")
    }

    /// `location` as an absolute URL: the server's, for a path.
    private func absolute(_ location: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        var base = server.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return base + (location.hasPrefix("/") ? "" : "/") + location
    }
}

/// Buffers of a file, counted into `progress` as they are sent, no faster than `rateLimit`.
struct CountedBuffers: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    typealias Failure = any Error

    let base: FileBuffers
    let progress: ByteCounter
    let rateLimit: RateLimit?

    func makeAsyncIterator() -> Iterator { Iterator(base: base.makeAsyncIterator(), progress: progress, rateLimit: rateLimit) }

    struct Iterator: AsyncIteratorProtocol {
        var base: FileBuffers.AsyncIterator
        let progress: ByteCounter
        let rateLimit: RateLimit?

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            try await rateLimit?.take(buffer.readableBytes)
            progress.add(buffer.readableBytes)
            return buffer
        }
    }
}
