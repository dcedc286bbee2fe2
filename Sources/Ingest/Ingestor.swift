import Crypto
import Dispatch
public import Logging
public import Multipart

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns a multipart/form-data body into durable, type-checked, queued documents.
///
/// Framework-agnostic: give it the request's Content-Type and its body as any `AsyncSequence` of
/// chunks (`ByteBuffer`s with `MultipartNIO`, `[UInt8]`, …). Text fields become the upload's
/// metadata (bounded by the parser's limits). Each file part is written to `tmp/` as its bytes
/// arrive, hashed on the way, its first bytes sniffed with libmagic and checked against the
/// policy as soon as they are in. Once the whole body is good, the files are made durable and
/// published into `blobs/` together, and the upload, its documents and their jobs are recorded
/// in one transaction: a receipt means the data is durable and queued.
///
/// On any error, or cancellation, nothing remains: temporary files are removed and no row is
/// written. Uploads are independent: any number can run at once, and one that stalls or fails
/// holds nothing the others need (but a sniffer handle for the few milliseconds of a sniff).
public struct Ingestor: Sendable {
    public let store: any BlobStore
    public let sniffer: MagicSniffer
    public let catalog: any Catalog
    public var policy: TypePolicy
    public var limits: MultipartLimits
    public var options: MultipartParser.Options
    public var logger: Logger

    public init(
        store: any BlobStore, sniffer: MagicSniffer, catalog: any Catalog, policy: TypePolicy = .knowledgeBase,
        limits: MultipartLimits = MultipartLimits(), options: MultipartParser.Options = MultipartParser.Options(),
        logger: Logger = Logger(label: "intake.ingest")
    ) {
        self.store = store
        self.sniffer = sniffer
        self.catalog = catalog
        self.policy = policy
        self.limits = limits
        self.options = options
        self.logger = logger
    }

    /// Ingests one upload into `knowledgeBase`, completing `idempotency` in the transaction that
    /// records it.
    public func ingest<Body: AsyncSequence>(
        contentType: String, body: Body, knowledgeBase: String, idempotency: IdempotencyCompletion? = nil
    ) async throws(IngestError) -> UploadReceipt where Body.Element: MultipartChunk {
        let parser: MultipartParser
        do throws(MultipartError) {
            parser = try MultipartParser(contentType: contentType, limits: limits, options: options)
        } catch {
            throw .invalidBody(error)
        }
        var upload = UploadAssembler(parser: parser, store: store, policy: policy, fileSizeLimit: limits.fileBytes)
        do throws(IngestError) {
            try await read(body, into: &upload)
            try upload.finish()
        } catch {
            upload.abandon()
            logger.info("upload refused", metadata: ["error": "\(error)", "offset": "\(upload.parser.offset)"])
            throw error
        }
        return try await publish(upload, knowledgeBase: knowledgeBase, idempotency: idempotency)
    }

    /// Ingests `file`, which arrived whole on local disk (an upload sent in pieces), as the one
    /// file of an upload with `fields`: sniffed, checked against the policy and the file size
    /// limit, published and recorded as a part of ``ingest(contentType:body:knowledgeBase:idempotency:)``
    /// would be, but without copying its bytes (the store links or reads the file). The file
    /// stays where it is whatever the outcome; the caller removes it.
    public func ingest(_ file: ReceivedFile, fields: [UploadField], knowledgeBase: String) async throws(IngestError) -> UploadReceipt {
        if let limit = limits.fileBytes, file.size > limit { throw .fileTooLarge(part: 0, limit: limit) }
        let prefix: [UInt8]
        do throws(StorageError) {
            prefix = try file.prefix(MagicSniffer.maximumSniffLength)
        } catch {
            throw .storage(error)
        }
        let type = TextTypeReconciliation.reconcile(await sniffer.sniff(prefix), declaredType: file.declaredType, filename: file.filename)
        guard policy.accepts(type, prefix: prefix) else {
            throw .typeRejected(
                TypeRejection(
                    part: 0, fieldName: file.fieldName, filename: file.filename, declaredType: file.declaredType, detectedType: type.mimeType))
        }
        let spool = store.spool
        let blob: WrittenBlob
        do throws(StorageError) {
            // Hashing a file not hashed on arrival reads it all: on a thread of its own.
            blob = try await DirectoryBlobStore.offloaded { () throws(StorageError) in
                let digest: SHA256Digest
                if let known = file.sha256 {
                    digest = known
                } else {
                    digest = try file.digest()
                }
                return try spool.adopt(file.path, size: file.size, digest: digest)
            }
        } catch {
            throw .storage(error)
        }
        let document = NewDocument(
            fieldName: file.fieldName, filename: file.filename, filenameStar: nil, declaredType: file.declaredType,
            detectedType: type.mimeType, charset: type.charset, size: file.size, sha256: blob.sha256)
        return try await publish(blobs: [blob], documents: [document], fields: fields, knowledgeBase: knowledgeBase, idempotency: nil)
    }

    /// The ``FormFingerprint`` of the upload `body` holds, read to its end with the same limits as
    /// ``ingest(contentType:body:knowledgeBase:idempotency:)`` and nothing stored: what a retry
    /// with an `Idempotency-Key` is compared by. Files are hashed as they stream past; a file part
    /// with no data and no filename (a browser's empty file input) is not a file, as when ingesting.
    public func fingerprint<Body: AsyncSequence>(contentType: String, body: Body) async throws(IngestError) -> String
    where Body.Element: MultipartChunk, Body.Element.Slice: MultipartChunk {
        var fields: [UploadField] = []
        var files: [NewDocument] = []
        do {
            let reader = try MultipartReader(contentType: contentType, body: body, limits: limits, options: options)
            for try await part in reader {
                if part.info.isFile {
                    var hasher = SHA256()
                    var size = 0
                    for try await slice in part.body {
                        slice.withUnsafeChunkBytes { bytes in
                            hasher.update(bufferPointer: bytes)
                            size += bytes.count
                        }
                    }
                    if size == 0 && (part.info.filename ?? "").isEmpty { continue }
                    files.append(
                        NewDocument(
                            fieldName: part.info.name, filename: part.info.filename, filenameStar: part.info.filenameStar,
                            declaredType: part.info.contentType, detectedType: "", charset: nil, size: size,
                            sha256: hasher.finalize().lowercaseHex))
                } else {
                    var value: [UInt8] = []
                    for try await slice in part.body { slice.withUnsafeChunkBytes { value.append(contentsOf: $0) } }
                    fields.append(UploadField(name: part.info.name, value: HeaderText.decode(value)))
                }
            }
        } catch let error as MultipartError {
            throw .invalidBody(error)
        } catch is CancellationError {
            throw .cancelled
        } catch {
            throw .bodyFailed("\(error)")
        }
        return FormFingerprint.of(NewUpload(knowledgeBase: "", fields: fields, documents: files))
    }

    /// How many sniffs of complete parts may run beside the reading of the next parts.
    static let sniffsInFlight = 8

    /// Reads the whole body through the assembler. A file part still arriving is sniffed as soon
    /// as its first 64 KiB are in, before more of it is read (so a large refused file is refused
    /// early); a part that ended before that is sniffed beside the reading of the next parts, at
    /// most ``sniffsInFlight`` at a time, which keeps both cores busy on many small files.
    private func read<Body: AsyncSequence>(_ body: Body, into upload: inout UploadAssembler) async throws(IngestError) where Body.Element: MultipartChunk {
        let sniffer = self.sniffer
        let outcome: Result<Void, IngestError> = await withTaskGroup(of: (UploadAssembler.DeferredSniff, SniffedType).self) { group in
            var inFlight = 0
            do throws(IngestError) {
                var iterator = body.makeAsyncIterator()
                while true {
                    if Task.isCancelled { throw .cancelled }
                    let chunk: Body.Element?
                    do {
                        chunk = try await iterator.next()
                    } catch is CancellationError {
                        throw .cancelled
                    } catch {
                        throw .bodyFailed("\(error)")
                    }
                    guard let chunk else { break }
                    var position = 0
                    while true {
                        let pause = try chunk.withUnsafeChunkBytes { (bytes) throws(IngestError) in
                            try upload.consume(bytes, at: &position)
                        }
                        guard case .sniff(let partEnded) = pause else { break }
                        if partEnded {
                            let deferred = try upload.deferSniff()
                            if inFlight == Self.sniffsInFlight, let (done, type) = await group.next() {
                                inFlight -= 1
                                try upload.applyDeferred(done, type: type)
                            }
                            group.addTask { (deferred, await sniffer.sniff(deferred.prefix)) }
                            inFlight += 1
                        } else {
                            try upload.accept(await sniffer.sniff(upload.sniffPrefix))
                        }
                    }
                }
                while let (done, type) = await group.next() {
                    try upload.applyDeferred(done, type: type)
                }
                return .success(())
            } catch {
                group.cancelAll()
                return .failure(error)
            }
        }
        try outcome.get()
    }

    /// Publishes the upload's files into `blobs/` and records it.
    private func publish(_ upload: UploadAssembler, knowledgeBase: String, idempotency: IdempotencyCompletion?) async throws(IngestError) -> UploadReceipt {
        try await publish(
            blobs: upload.pending.map(\.blob), documents: upload.pending.map(\.document), fields: upload.fields, knowledgeBase: knowledgeBase,
            idempotency: idempotency)
    }

    /// Publishes `blobs` and records them as `documents` of one upload with `fields`.
    private func publish(
        blobs: [WrittenBlob], documents: [NewDocument], fields: [UploadField], knowledgeBase: String, idempotency: IdempotencyCompletion?
    ) async throws(IngestError) -> UploadReceipt {
        let store = self.store
        let stored: [StoredBlob]
        do throws(StorageError) {
            stored = try await store.publish(blobs)
        } catch {
            // publish removed what it had not stored; stored blobs wait for collectGarbage.
            throw .storage(error)
        }
        do {
            let receipt = try await catalog.record(
                NewUpload(knowledgeBase: knowledgeBase, fields: fields, documents: documents), completing: idempotency,
                blobIsPresent: { try await store.contains($0) })
            // At debug: a server's access log names the upload already (its Location).
            logger.debug(
                "upload ingested",
                metadata: [
                    "upload": "\(receipt.id)", "documents": "\(receipt.documents.count)", "bytes": "\(documents.reduce(0) { $0 + $1.size })",
                ])
            return receipt
        } catch {
            // Nothing was recorded: the blobs this upload added go, unless another document has them by now.
            let added = stored.filter { !$0.wasAlreadyStored }.map(\.sha256)
            if !added.isEmpty {
                do {
                    _ = try await catalog.releaseBlobs(added) { digest in try await store.remove(digest) }
                } catch {
                    logger.warning("blobs of an upload that was not recorded are left to garbage collection", metadata: ["error": "\(error)"])
                }
            }
            if let unavailable = error as? StoreUnavailable { throw .storeUnavailable(unavailable.reason) }
            switch error as? CatalogError {
            case .storageFull?: throw .catalogFull
            case .blobRemoved(let sha256)?: throw .blobRemoved(sha256: sha256)
            case nil: throw .catalog("\(error)")
            }
        }
    }

    /// Removes document `id` (its job and passages too) and, when no other document has the same
    /// content, its blob. Returns whether the document existed.
    public func deleteDocument(id: String) async throws -> Bool {
        guard let digest = try await catalog.deleteDocument(id: id) else { return false }
        let store = self.store
        _ = try await catalog.releaseBlobs([digest]) { digest in try await store.remove(digest) }
        return true
    }

    /// Removes blobs that no recorded document refers to and that are older than `gracePeriod`
    /// (an upload publishes its blobs a moment before it records them). Returns how many.
    public func collectGarbage(gracePeriod: Duration = .seconds(3600)) async throws -> Int {
        let referenced = try await catalog.referencedDigests()
        let cutoff = time(nil) - Int(gracePeriod.components.seconds)
        let candidates = try await store.listBlobs().filter { !referenced.contains($0.sha256) && $0.storedAt < cutoff }.map(\.sha256)
        guard !candidates.isEmpty else { return 0 }
        // Through the catalog, which checks again under its lock that no upload recorded since refers to them.
        let store = self.store
        let removed = try await catalog.releaseBlobs(candidates) { digest in try await store.remove(digest) }.count
        if removed > 0 { logger.info("unreferenced blobs removed", metadata: ["count": "\(removed)"]) }
        return removed
    }
}
