import Ingest
import S3
import Synchronization

/// A multipart upload to `streams/<id>` of a blob still arriving: each segment the writer
/// finishes (one part, hashed on its own) is sent at once, at most `concurrency` at a time, read
/// back from the spooled file, so the upload to the store overlaps the upload from the client
/// and memory does not grow with either. ``complete(_:)`` sends the rest once the blob is
/// written and completes it; ``abort()`` and ``writeAbandoned()`` abort it in the store.
final class StreamedBlobUpload: BlobWriteObserver {
    /// The stream's id, drawn at random: the digest is not known until the last byte.
    let id: String
    let key: String
    private let client: S3Client
    private let concurrency: Int
    private let registry: StreamedBlobUploads
    private let segments: AsyncStream<BlobSegment>
    private let continuation: AsyncStream<BlobSegment>.Continuation
    private let state = Mutex(State())

    private struct State {
        var sending: Task<[S3UploadedPart], any Error>?
        var uploadID: String?
        var segmentsSeen = 0
        var path: String?
        /// No segment is taken any more: the blob is being completed or aborted.
        var isOver = false
        var isAborting = false
    }

    init(client: S3Client, layout: S3BlobLayout, concurrency: Int, registry: StreamedBlobUploads) {
        id = S3BlobLayout.newStreamID()
        key = layout.stream(id)
        self.client = client
        self.concurrency = max(1, concurrency)
        self.registry = registry
        (segments, continuation) = AsyncStream.makeStream(of: BlobSegment.self)
    }

    func segmentWritten(_ segment: BlobSegment) {
        let isFirst = state.withLock { state -> Bool in
            guard !state.isOver else { return false }
            state.segmentsSeen += 1
            guard state.sending == nil else { return false }
            state.path = segment.path
            state.sending = Task { try await self.send() }
            return true
        }
        if isFirst { registry.add(self, for: segment.path) }
        continuation.yield(segment)
    }

    func writeAbandoned() {
        abandon()
    }

    /// Sends the segments not sent yet (the last, shorter one at least), waits for every part,
    /// and completes the object. On failure the upload is aborted and the error thrown.
    func complete(_ blob: WrittenBlob) async throws {
        guard let segmentSize = blob.segmentSize else { preconditionFailure("a streamed blob is written in segments") }
        let (seen, sending) = state.withLock { state in
            state.isOver = true
            return (state.segmentsSeen, state.sending)
        }
        guard let sending else { preconditionFailure("a stream is begun by its first segment") }
        for index in seen..<blob.segmentDigests.count {
            let start = index * segmentSize
            continuation.yield(
                BlobSegment(
                    index: index, range: start..<min(start + segmentSize, blob.size), sha256: blob.segmentDigests[index],
                    path: blob.temporaryPath))
        }
        continuation.finish()
        do {
            let parts = try await sending.value
            guard let uploadID = state.withLock({ $0.uploadID }) else { preconditionFailure("parts are sent after the upload began") }
            try await client.completeMultipartUpload(key: key, uploadID: uploadID, parts: parts)
        } catch {
            await abort()
            throw error
        }
    }

    /// Stops sending and aborts the upload once the parts in flight are done (a part that
    /// landed after an abort would keep the upload alive; a request cut short might have begun
    /// an upload it never learnt the id of).
    func abort() async {
        let sending = state.withLock { state in
            state.isOver = true
            state.isAborting = true
            return state.sending
        }
        continuation.finish()
        _ = try? await sending?.value
        if let uploadID = state.withLock({ $0.uploadID }) {
            // Best effort: what is left is aborted by a later sweep.
            try? await client.abortMultipartUpload(key: key, uploadID: uploadID)
        }
    }

    /// ``abort()`` without waiting, for a writer that is going away.
    func abandon() {
        let path = state.withLock { state -> String? in
            defer { state.isOver = true }
            return state.isOver ? nil : state.path
        }
        guard let path else { return }
        registry.remove(path)
        registry.track { await self.abort() }
    }

    private func send() async throws -> [S3UploadedPart] {
        let uploadID = try await client.createMultipartUpload(key: key)
        state.withLock { $0.uploadID = uploadID }
        return try await withThrowingTaskGroup(of: S3UploadedPart.self) { group in
            var parts: [S3UploadedPart] = []
            var running = 0
            for await segment in segments {
                if state.withLock({ $0.isAborting }) { throw CancellationError() }
                if running == concurrency, let part = try await group.next() {
                    parts.append(part)
                    running -= 1
                }
                let payload = S3BlobStore.payload(segment.path, segment.range, sha256: segment.sha256, client: client)
                group.addTask { [client, key] in
                    try await client.uploadPart(key: key, uploadID: uploadID, number: segment.index + 1, payload: payload)
                }
                running += 1
            }
            for try await part in group { parts.append(part) }
            return parts
        }
    }
}

/// The streamed uploads of a store's writers, by spooled file, until they are published or
/// discarded.
final class StreamedBlobUploads: Sendable {
    private let uploads = Mutex<[String: StreamedBlobUpload]>([:])
    private let aborts = Mutex<(next: Int, running: [Int: Task<Void, Never>])>((0, [:]))

    /// Runs `abort` in a task of its own, which ``waitForAborts()`` waits for.
    func track(_ abort: @escaping @Sendable () async -> Void) {
        aborts.withLock { aborts in
            let number = aborts.next
            aborts.next += 1
            aborts.running[number] = Task {
                await abort()
                self.aborts.withLock { _ = $0.running.removeValue(forKey: number) }
            }
        }
    }

    /// Returns once every abort begun so far is done.
    func waitForAborts() async {
        while true {
            let running = aborts.withLock { Array($0.running.values) }
            if running.isEmpty { return }
            for task in running { await task.value }
        }
    }

    func add(_ upload: StreamedBlobUpload, for path: String) {
        uploads.withLock { $0[path] = upload }
    }

    @discardableResult
    func remove(_ path: String) -> StreamedBlobUpload? {
        uploads.withLock { $0.removeValue(forKey: path) }
    }

    var count: Int { uploads.withLock { $0.count } }
}
