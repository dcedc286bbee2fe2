import Multipart

/// The state of one upload while its body streams through the parser: text fields kept as
/// metadata, file parts written to disk as their bytes arrive, their first bytes kept for
/// sniffing. Synchronous; ``Ingestor`` drives it and does the awaiting (reading the body,
/// sniffing).
struct UploadAssembler {
    /// Why ``consume(_:at:)`` stopped.
    enum Pause {
        /// The chunk is used up.
        case needInput
        /// The current file part's first bytes are ready to sniff (``sniffPrefix``); call
        /// ``accept(_:)`` with the result, then go on with the same chunk. `partEnded` says the
        /// part's data is complete: the sniff may then be deferred with ``deferSniff()``.
        case sniff(partEnded: Bool)
    }

    /// A sniff left for later: the part is closed and pending, its type unknown yet.
    struct DeferredSniff: Sendable {
        /// The part's place in ``pending``.
        var index: Int
        var prefix: [UInt8]
    }

    /// A file part written to `tmp/`, waiting for the whole body to be good.
    struct PendingDocument {
        var blob: WrittenBlob
        var document: NewDocument
    }

    private let store: any BlobStore
    private let policy: TypePolicy
    private let fileSizeLimit: Int?
    private(set) var parser: MultipartParser

    private(set) var fields: [UploadField] = []
    private(set) var pending: [PendingDocument] = []

    private var part: MultipartPart? = nil
    private var decoder = MultipartTransferDecoder(.identity)
    private var decoded: [UInt8] = []
    private var fieldValue: [UInt8] = []
    private var writer: BlobWriter? = nil
    private(set) var sniffPrefix: [UInt8] = []
    private var sniffed: SniffedType? = nil
    private var partEnded = false

    init(parser: MultipartParser, store: any BlobStore, policy: TypePolicy, fileSizeLimit: Int?) {
        self.parser = parser
        self.store = store
        self.policy = policy
        self.fileSizeLimit = fileSizeLimit
    }

    /// Reads events from `chunk` at `position` until it is used up or a sniff is due.
    mutating func consume(_ chunk: UnsafeRawBufferPointer, at position: inout Int) throws(IngestError) -> Pause {
        while let event = try nextEvent(chunk, at: &position) {
            switch event {
            case .partBegin(let part):
                try begin(part)
            case .body(let range):
                let offset = parser.offset - position + range.lowerBound
                if try data(UnsafeRawBufferPointer(rebasing: chunk[range]), offset: offset) { return .sniff(partEnded: false) }
            case .bodyLookbehind(let range):
                let offset = parser.lookbehindOffset
                let held = parser.withLookbehindBytes(range) { Array($0) }
                if try withBytes(of: held, { (bytes) throws(IngestError) in try data(bytes, offset: offset) }) { return .sniff(partEnded: false) }
            case .partEnd:
                if try end() { return .sniff(partEnded: true) }
            case .end:
                break
            }
        }
        return .needInput
    }

    private mutating func nextEvent(_ chunk: UnsafeRawBufferPointer, at position: inout Int) throws(IngestError) -> MultipartEvent? {
        do throws(MultipartError) {
            return try parser.next(in: chunk, at: &position)
        } catch {
            throw .invalidBody(error)
        }
    }

    /// Applies the sniffed type of the current file part, whose data is still arriving: refuses it,
    /// or lets it go on. (A part that ended before its sniff goes through ``deferSniff()``.)
    mutating func accept(_ sniffedType: SniffedType) throws(IngestError) {
        guard let part else { preconditionFailure("a sniff belongs to a file part") }
        let type = TextTypeReconciliation.reconcile(sniffedType, declaredType: part.contentType, filename: part.filename)
        sniffed = type
        guard policy.accepts(type, prefix: sniffPrefix) else {
            throw .typeRejected(
                TypeRejection(
                    part: part.index, fieldName: part.name, filename: part.filename,
                    declaredType: part.contentType, detectedType: type.mimeType))
        }
    }

    /// Closes the current file part, whose data has ended, without its type: the caller sniffs
    /// the returned prefix when it can and calls ``applyDeferred(_:type:)``.
    mutating func deferSniff() throws(IngestError) -> DeferredSniff {
        precondition(partEnded && sniffed == nil, "only an ended part's sniff can wait")
        let prefix = sniffPrefix
        sniffed = SniffedType(mimeType: "application/octet-stream")  // replaced by applyDeferred
        try finishFile()
        return DeferredSniff(index: pending.count - 1, prefix: prefix)
    }

    /// Applies a deferred sniff: refuses the part, or records its type.
    mutating func applyDeferred(_ sniff: DeferredSniff, type sniffedType: SniffedType) throws(IngestError) {
        let document = pending[sniff.index].document
        let type = TextTypeReconciliation.reconcile(sniffedType, declaredType: document.declaredType, filename: document.filename)
        guard policy.accepts(type, prefix: sniff.prefix) else {
            throw .typeRejected(
                TypeRejection(
                    part: document.partIndex, fieldName: document.fieldName, filename: document.filename,
                    declaredType: document.declaredType, detectedType: type.mimeType))
        }
        pending[sniff.index].document.detectedType = type.mimeType
        pending[sniff.index].document.charset = type.charset
    }

    /// Declares the end of the body; throws if it was cut short.
    mutating func finish() throws(IngestError) {
        do throws(MultipartError) {
            try parser.finish()
        } catch {
            throw .invalidBody(error)
        }
    }

    /// Removes every temporary file of the upload: the one being written and the synced ones.
    mutating func abandon() {
        writer?.discard()
        writer = nil
        for document in pending { store.discard(document.blob) }
        pending.removeAll()
    }

    // MARK: - Events

    private mutating func begin(_ part: MultipartPart) throws(IngestError) {
        // Names are stored as text, exactly: a NUL would cut them, so the part is refused instead.
        for (what, value) in [("name", part.name), ("filename", part.filename), ("filename*", part.filenameStar)] {
            if let value, value.utf8.contains(0) {
                throw .invalidBody(MultipartError(.invalidParameters, offset: parser.offset, "the \(what) of part \(part.index) holds a NUL byte, which cannot be stored; rename it"))
            }
        }
        self.part = part
        partEnded = false
        decoder = MultipartTransferDecoder(part.transferEncoding)
        if part.isFile {
            sniffPrefix.removeAll(keepingCapacity: true)
            sniffed = nil
            do throws(StorageError) {
                writer = try store.makeWriter(fileSizeLimit: fileSizeLimit)
            } catch {
                throw .storage(error)
            }
        } else {
            fieldValue.removeAll(keepingCapacity: true)
        }
    }

    /// Takes wire bytes of the current part; returns whether a sniff is now due.
    private mutating func data(_ wire: UnsafeRawBufferPointer, offset: Int) throws(IngestError) -> Bool {
        guard let part else { return false }
        if case .identity = part.transferEncoding {
            return try take(wire)
        }
        decoded.removeAll(keepingCapacity: true)
        do throws(MultipartError) {
            try decoder.decode(wire, into: &decoded, offset: offset)
        } catch {
            throw .invalidBody(error)
        }
        return try withBytes(of: decoded) { (bytes) throws(IngestError) in try take(bytes) }
    }

    /// Takes decoded bytes of the current part.
    private mutating func take(_ bytes: UnsafeRawBufferPointer) throws(IngestError) -> Bool {
        guard let part else { return false }
        guard part.isFile else {
            fieldValue.append(contentsOf: bytes)  // bounded by the parser's field limit
            return false
        }
        var dueNow = false
        if sniffed == nil && sniffPrefix.count < MagicSniffer.maximumSniffLength {
            let room = MagicSniffer.maximumSniffLength - sniffPrefix.count
            sniffPrefix.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes.prefix(room)))
            dueNow = sniffPrefix.count == MagicSniffer.maximumSniffLength
        }
        do throws(StorageError) {
            try writer?.write(bytes)
        } catch {
            if error.code == .fileTooLarge { throw .fileTooLarge(part: part.index, limit: fileSizeLimit ?? 0) }
            throw .storage(error)
        }
        return dueNow
    }

    /// Ends the current part; returns whether a sniff is due before it can be finished.
    private mutating func end() throws(IngestError) -> Bool {
        guard let part else { return false }
        decoded.removeAll(keepingCapacity: true)
        do throws(MultipartError) {
            try decoder.finish(into: &decoded, offset: parser.offset)
        } catch {
            throw .invalidBody(error)
        }
        if !decoded.isEmpty {
            _ = try withBytes(of: decoded) { (bytes) throws(IngestError) in try take(bytes) }
        }
        partEnded = true
        if part.isFile, let writer, writer.size == 0, (part.filename ?? "").isEmpty {
            // What a browser sends for an optional file input left empty: not a document.
            writer.discard()
            self.writer = nil
            self.part = nil
            return false
        }
        guard part.isFile else {
            if fieldValue.contains(0) {
                throw .invalidBody(
                    MultipartError(.invalidEncodedData, offset: parser.offset, "the value of field '\(part.name)' (part \(part.index)) holds a NUL byte, which cannot be stored as text"))
            }
            fields.append(UploadField(name: part.name, value: HeaderText.decode(fieldValue)))
            self.part = nil
            return false
        }
        if sniffed == nil { return true }
        try finishFile()
        return false
    }

    /// Closes the current file part (writeback started) and records it as pending.
    private mutating func finishFile() throws(IngestError) {
        guard let part, let writer, let sniffed else { preconditionFailure("a file part to finish") }
        self.writer = nil
        self.part = nil
        do throws(StorageError) {
            let blob = try writer.close()
            var document = NewDocument(
                fieldName: part.name, filename: part.filename, filenameStar: part.filenameStar,
                declaredType: part.contentType, detectedType: sniffed.mimeType, charset: sniffed.charset,
                size: blob.size, sha256: blob.sha256)
            document.partIndex = part.index
            pending.append(PendingDocument(blob: blob, document: document))
        } catch {
            throw .storage(error)
        }
    }
}

/// `Array.withUnsafeBytes` with the closure's typed error kept.
func withBytes<Result>(of array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(IngestError) -> Result) throws(IngestError) -> Result {
    let outcome = array.withUnsafeBytes { bytes in Swift.Result { () throws(IngestError) in try body(bytes) } }
    return try outcome.get()
}
