public import Ingest
import S3

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension S3BlobStore {
    /// Removes `blobs/<sha256>` and every link of `sha256` with its stream, the link first: a
    /// crash in between leaves an orphan stream for the sweep, never a link to nothing.
    public func remove(_ sha256: String) async throws(StorageError) {
        guard BlobDigest.isValid(sha256) else { return }
        do throws(S3Error) {
            try await client.deleteObject(key: layout.blob(sha256))
            for link in try await client.listObjects(prefix: layout.links(of: sha256)) {
                guard let (_, id) = layout.parseLink(link.key) else { continue }
                try await client.deleteObject(key: link.key)
                try await client.deleteObject(key: layout.stream(id))
            }
        } catch {
            throw Self.storageError(error, operation: "remove blob \(sha256)")
        }
    }

    /// Whole blobs and linked streams, each digest once (with the latest time it was stored).
    public func listBlobs() async throws(StorageError) -> [BlobListing] {
        do throws(S3Error) {
            var stored: [String: Int] = [:]
            for object in try await client.listObjects(prefix: layout.blobsPrefix) {
                guard let name = layout.name(of: object.key, under: layout.blobsPrefix), BlobDigest.isValid(name) else { continue }
                stored[name] = max(stored[name] ?? 0, object.lastModified)
            }
            for object in try await client.listObjects(prefix: layout.linksPrefix) {
                guard let (sha256, _) = layout.parseLink(object.key) else { continue }
                stored[sha256] = max(stored[sha256] ?? 0, object.lastModified)
            }
            return stored.map { BlobListing(sha256: $0.key, storedAt: $0.value) }.sorted { $0.sha256 < $1.sha256 }
        } catch {
            throw Self.storageError(error, operation: "list blobs")
        }
    }

    /// Cleans up what crashed publishes left, if older than `age`; returns how many things it
    /// removed:
    /// - multipart uploads left unfinished under `blobs/` (and under `streams/` if older than
    ///   ``longestUpload`` too: a slow client may still be sending one);
    /// - streams no link names, unless a publish claims them (``S3BlobLayout``); listed streams,
    ///   then claims, then links, so a stream completed meanwhile is seen claimed or linked;
    /// - claims and links to nothing left by failures.
    public func sweepAbandonedWrites(olderThan age: Duration) async throws(StorageError) -> Int {
        let now = Int(time(nil))
        return try await sweepAbandonedWrites(
            storedBy: now - Int(age.components.seconds), uploadsBegunBy: now - Int(max(age, longestUpload).components.seconds))
    }

    /// ``sweepAbandonedWrites(olderThan:)`` with its two cutoffs given, in seconds since 1970:
    /// what was stored at `cutoff` or before is old (a claim only if stored before it), and
    /// multipart uploads to `streams/` are old if begun at `uploadCutoff` or before.
    public func sweepAbandonedWrites(storedBy cutoff: Int, uploadsBegunBy uploadCutoff: Int) async throws(StorageError) -> Int {
        do throws(S3Error) {
            var removed = 0
            for upload in try await client.pendingUploads(prefix: location.key("")) {
                let isStream = upload.key.hasPrefix(layout.streamsPrefix)
                guard upload.initiated <= (isStream ? uploadCutoff : cutoff) else { continue }
                try await client.abortMultipartUpload(key: upload.key, uploadID: upload.uploadID)
                removed += 1
            }
            let streams = try await client.listObjects(prefix: layout.streamsPrefix)
            let claims = try await client.listObjects(prefix: layout.claimsPrefix)
            let links = try await client.listObjects(prefix: layout.linksPrefix)
            let linked = Set(links.compactMap { layout.parseLink($0.key)?.id })
            let claimedLately = Set(claims.filter { $0.lastModified >= cutoff }.compactMap { layout.name(of: $0.key, under: layout.claimsPrefix) })
            var streamIDs = Set<String>()
            for stream in streams {
                guard let id = layout.name(of: stream.key, under: layout.streamsPrefix), S3BlobLayout.isStreamID(id) else { continue }
                streamIDs.insert(id)
                guard stream.lastModified <= cutoff, !linked.contains(id), !claimedLately.contains(id) else { continue }
                try await client.deleteObject(key: stream.key)
                removed += 1
            }
            for claim in claims where claim.lastModified < cutoff {
                try await client.deleteObject(key: claim.key)
                removed += 1
            }
            for link in links where link.lastModified <= cutoff {
                guard let (_, id) = layout.parseLink(link.key), !streamIDs.contains(id) else { continue }
                try await client.deleteObject(key: link.key)
                removed += 1
            }
            return removed
        } catch {
            throw Self.storageError(error, operation: "sweep abandoned writes")
        }
    }
}
