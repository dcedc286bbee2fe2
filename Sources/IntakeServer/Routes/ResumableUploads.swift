import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Ingest
import IntakeRuntime
import Multipart
import NIOCore

/// What both resumable-upload protocols at `/files/` (tus 1.0, ``TusRoutes``; the IETF draft,
/// ``IETFUploadRoutes``) do the same way: the upload's state in the store
/// (``ResumableUploadStore``), its bytes in ``ResumableFiles``, one append at a time under a
/// claim, an offset reported only once its bytes are synced, and completion: when the last byte
/// is in, the file goes through the pipeline of `POST /uploads` (sniffing, type policy, limits,
/// durable blob, queued document) without being copied, while the append still holds the upload.
struct ResumableUploads: Sendable {
    let service: IntakeService
    let files: ResumableFiles

    /// How long an upload with no append is kept.
    static let lifetime: TimeInterval = 24 * 3600
    /// How long one append holds its upload (a node that dies mid-append holds it no longer).
    static let appendLease: TimeInterval = 15 * 60
    /// How often a running append renews its hold.
    static let appendRenewal: TimeInterval = 60

    /// What one append asks for.
    struct Append {
        /// Where the client says its bytes go: the upload's offset, or 409.
        var offset: Int64
        /// The upload's length, when this request tells it (tus `Upload-Length` of a deferred
        /// upload, IETF `Upload-Length`); it must agree with a length known already.
        var length: Int64?
        /// Whether the request's body ends the upload (IETF `Upload-Complete: ?1`): its length is
        /// then the offset the body reaches.
        var completes = false
        /// Whether only ``completes`` completes the upload (the IETF protocol); otherwise (tus) it
        /// completes when its offset reaches its length.
        var completesOnlyWhenSaid = false
        /// tus `Upload-Checksum`: the piece is dropped (460) when its digest differs.
        var checksum: (algorithm: ResumableFiles.ChecksumAlgorithm, digest: [UInt8])?
        /// The IETF interop version to name in a `104` with each checkpoint's offset; nil: none sent.
        var progressVersion: Int?
    }

    /// How an append ended.
    enum Outcome {
        /// The bytes are in; the upload waits for more.
        case appended(ResumableUpload)
        /// The last byte was in: the upload's file is a queued document of the upload made.
        case completed(UploadReceipt)
    }

    /// A refusal of the file at completion (its type, its size): the upload is gone, and the
    /// answer is the one `POST /uploads` gives (the IETF protocol marks it `Upload-Complete: ?1`).
    struct CompletionRefused: Error {
        var error: APIError
    }

    /// The upload named in the path, if the request's key may see it (404 otherwise, as for documents).
    func owned(_ context: IntakeRequestContext) async throws -> ResumableUpload {
        let id = try context.parameters.require("id")
        guard ResumableFiles.isValid(id), let upload = try await service.database.resumableUpload(id: id),
            context.knowledgeBase == nil || context.knowledgeBase == upload.knowledgeBase
        else { throw APIError.notFound("upload \(id)") }
        // Past its expiry an upload is gone, swept or not.
        guard upload.expiresAt > service.configuration.clock.now else { throw APIError.notFound("upload \(id)") }
        return upload
    }

    /// 413 when `length` is over the file size limit.
    func checkLength(_ length: Int64?) throws {
        if let length, let limit = service.configuration.limits.fileBytes, length > Int64(limit) {
            throw APIError(.contentTooLarge, code: "limit_exceeded", message: "the file is \(length) bytes; the limit is \(limit)", closesConnection: true)
        }
    }

    /// Records a new, empty upload and makes its file.
    func create(knowledgeBase: String, length: Int64?, filename: String?, declaredType: String?, fields: [UploadField]) async throws -> ResumableUpload {
        try checkLength(length)
        let now = service.configuration.clock.now
        let upload = ResumableUpload(
            id: ResumableFiles.newID(), knowledgeBase: knowledgeBase, length: length, filename: filename,
            declaredType: declaredType, fields: fields, createdAt: now, expiresAt: now.addingTimeInterval(Self.lifetime))
        do throws(StorageError) {
            try await files.create(upload.id)
        } catch {
            throw APIError(IngestError.storage(error))
        }
        do {
            try await service.database.createResumableUpload(upload, limits: service.configuration.resumableUploadLimits)
        } catch let reached as ResumableUploadLimitReached {
            files.remove(upload.id)
            var error = APIError(
                .tooManyRequests, code: "too_many_uploads",
                message: reached.isPerKnowledgeBase
                    ? "\(reached.limit) uploads sent in pieces are open in this knowledge base; complete or cancel one (DELETE /files/{id}) first"
                    : "\(reached.limit) uploads sent in pieces are open on this server; try again later",
                closesConnection: true)
            error.extraHeaders[.retryAfter] = "60"
            throw error
        } catch {
            // No row, no file: a creation the store refused leaves nothing on disk.
            files.remove(upload.id)
            throw error
        }
        return upload
    }

    /// Cancels the upload: its state and its bytes go.
    func remove(_ upload: ResumableUpload) async throws {
        try await service.database.removeResumableUpload(id: upload.id)
        files.remove(upload.id)
    }

    /// Appends the request's body at `append.offset`; completes the upload when its last byte is in.
    func append(_ upload: ResumableUpload, _ append: Append, _ request: Request, _ context: IntakeRequestContext) async throws -> Outcome {
        let clock = service.configuration.clock
        let database = service.database
        // This append's own claim: the node's name (a restarted node ends its claims) and a token,
        // so that a second request on the same node never passes for the first.
        let node = "\(service.configuration.node.name) \(RandomIdentifier.hex(16))"
        let claimed: ResumableUpload
        do {
            claimed = try await database.beginResumableAppend(
                id: upload.id, at: append.offset, node: node, leaseUntil: clock.now.addingTimeInterval(Self.appendLease))
        } catch let conflict as ResumableUploadConflict {
            var error = APIError(
                .conflict, code: conflict.reason == .offsetMismatch ? "offset_mismatch" : "append_in_progress",
                message: conflict.reason == .offsetMismatch
                    ? "the upload has \(conflict.offset) bytes: send from there (Upload-Offset: \(conflict.offset))"
                    : "another request is appending to this upload; ask HEAD for the offset when it ends",
                closesConnection: true)
            error.extraHeaders = [HTTPField.Name("Upload-Offset")!: "\(conflict.offset)"]
            throw error
        }
        /// The offset recorded so far: where the append began, then each checkpoint's.
        var durable = append.offset
        /// Ends the claim with the offset recorded (what this request had synced at its last checkpoint).
        func release() async {
            _ = try? await database.finishResumableAppend(id: upload.id, node: node, offset: durable, length: nil, expiresAt: claimed.expiresAt)
        }
        if let known = claimed.length, let told = append.length, known != told {
            await release()
            throw APIError(.badRequest, code: "inconsistent_length", message: "the upload's length is \(known) bytes, not \(told)", closesConnection: true)
        }
        let total = claimed.length ?? append.length
        do {
            try checkLength(total)
        } catch {
            await release()
            throw error
        }
        await context.expectBody()
        let room = total.map { $0 - append.offset } ?? service.configuration.limits.fileBytes.map { Int64($0) - append.offset }
        let running = files.digests.take(upload.id, at: append.offset)
        let appended: ResumableFiles.Appended
        do throws(StorageError) {
            // The claim is renewed while bytes come (a minute after the last renewal, before the next
            // write): an append that stalls past its lease finds the upload taken and writes no more.
            var renewed = clock.now
            // A piece checked whole (tus checksum) is recorded whole or not at all: no checkpoints.
            let checkpointEvery = append.checksum == nil ? service.configuration.resumableCheckpointBytes : nil
            appended = try await files.append(
                upload.id, at: append.offset, limit: room, checksum: append.checksum?.algorithm, running: running, body: request.body,
                beforeWrite: {
                    guard clock.now.timeIntervalSince(renewed) >= Self.appendRenewal else { return }
                    try await database.renewResumableAppend(id: upload.id, node: node, leaseUntil: clock.now.addingTimeInterval(Self.appendLease))
                    renewed = clock.now
                },
                checkpointEvery: checkpointEvery, bodyLength: request.headers[.contentLength].flatMap(Int64.init),
                checkpoint: { offset in
                    try await database.checkpointResumableAppend(id: upload.id, node: node, offset: offset, leaseUntil: clock.now.addingTimeInterval(Self.appendLease))
                    renewed = clock.now
                    durable = offset
                    if let version = append.progressVersion {
                        await context.sendInterim(
                            HTTPResponse(
                                status: HTTPResponse.Status(code: 104, reasonPhrase: "Upload Resumption Supported"),
                                headerFields: [IETFUploadRoutes.interopField: "\(version)", IETFUploadRoutes.offsetField: "\(offset)"]))
                    }
                })
        } catch {
            await release()
            throw AfterTheBody(APIError(IngestError.storage(error)))
        }
        if appended.failure is ResumableUploadNotFound {
            throw AfterTheBody(APIError.notFound("upload \(upload.id)"))
        }
        if let conflict = appended.failure as? ResumableUploadConflict {
            throw AfterTheBody(
                APIError(
                    .conflict, code: "append_in_progress",
                    message: "this request stalled past its hold on the upload and another took it; ask HEAD for the offset (it had \(conflict.offset))",
                    closesConnection: true))
        }
        // A piece whose checksum is not the one sent is dropped whole (460): the offset stays.
        if let checksum = append.checksum, appended.failure == nil, appended.digest != checksum.digest {
            await release()
            if let running { files.digests.keep(upload.id, at: append.offset, running) }
            var mismatch = APIError(
                HTTPResponse.Status(code: 460, reasonPhrase: "Checksum Mismatch"), code: "checksum_mismatch",
                message: "the piece's \(checksum.algorithm.rawValue) is not the Upload-Checksum sent; it was dropped: send it again from \(append.offset)")
            mismatch.extraHeaders = [HTTPField.Name("Upload-Offset")!: "\(append.offset)"]
            throw AfterTheBody(mismatch)
        }
        var length = append.length
        let bodyEnded = appended.failure == nil
        if append.completes && bodyEnded {
            if let total, total != appended.offset {
                await release()
                throw AfterTheBody(
                    APIError(
                        .badRequest, code: "inconsistent_length",
                        message: "the upload's length is \(total) bytes, but it ends at \(appended.offset)", closesConnection: false))
            }
            length = appended.offset
        }
        let completes = bodyEnded && (length ?? total) == appended.offset && (append.completes || !append.completesOnlyWhenSaid)
        if completes {
            return .completed(try await complete(claimed, size: appended.offset, digest: appended.running, node: node, resumeAt: durable))
        }
        // The bytes are synced: now the offset may move, and be reported.
        let now = try await database.finishResumableAppend(
            id: upload.id, node: node, offset: appended.offset, length: claimed.length == nil ? length : nil,
            expiresAt: clock.now.addingTimeInterval(Self.lifetime))
        if let hasher = appended.running { files.digests.keep(upload.id, at: appended.offset, hasher) }
        if appended.failure is ResumableAppendTooLong {
            throw AfterTheBody(APIError(.contentTooLarge, code: "limit_exceeded", message: "the body goes past the upload's \(total ?? 0) bytes", closesConnection: true))
        }
        if let failure = appended.failure { throw failure }
        return .appended(now)
    }

    /// The whole file through the pipeline of `POST /uploads`, handed over (linked, not copied)
    /// while `node` still holds the upload. Done: the upload's state and file go. Refused (type,
    /// size): they go too, and ``CompletionRefused`` says why. Failed (the store, the disk): the
    /// upload stays at `resumeAt`, where it was before this append, for the client to send the
    /// last piece again.
    private func complete(_ upload: ResumableUpload, size: Int64, digest: SHA256?, node: String, resumeAt: Int64) async throws -> UploadReceipt {
        let file = ReceivedFile(
            path: files.path(upload.id), size: Int(size), sha256: digest?.finalize(), filename: upload.filename, declaredType: upload.declaredType)
        let start = ContinuousClock.now
        do throws(IngestError) {
            let receipt = try await service.ingestor.ingest(file, fields: upload.fields, knowledgeBase: upload.knowledgeBase)
            service.configuration.metrics.uploadCreated(bytes: Int(size), documents: receipt.documents.count, duration: .now - start)
            _ = try? await service.database.removeResumableUpload(id: upload.id)
            files.remove(upload.id)
            return receipt
        } catch {
            var refusal = APIError(error)
            // The whole body was read: the connection can serve the next request.
            refusal.closesConnection = false
            switch error {
            case .typeRejected, .fileTooLarge, .invalidBody:
                _ = try? await service.database.removeResumableUpload(id: upload.id)
                files.remove(upload.id)
                service.configuration.metrics.uploadFailed(code: refusal.code)
                throw CompletionRefused(error: refusal)
            default:
                _ = try? await service.database.finishResumableAppend(
                    id: upload.id, node: node, offset: resumeAt, length: nil, expiresAt: service.configuration.clock.now.addingTimeInterval(Self.lifetime))
                throw AfterTheBody(refusal)
            }
        }
    }
}
