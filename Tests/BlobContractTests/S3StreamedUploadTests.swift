import Foundation
import Ingest
import IngestS3
import S3
import Testing

/// Blobs larger than a part go to the store while they arrive, under a random stream id, and
/// are linked to their digest once complete. Against SeaweedFS in CI.
@Suite(.enabled(if: S3Server.fromEnvironment != nil, "INTAKE_TEST_S3_ENDPOINT names no S3 service"))
struct S3StreamedUploadTests {
    private static let part = 5 << 20

    private func open() async throws -> (BlobFixture, S3BlobStore, S3Client, S3BlobLayout) {
        let fixture = try await BlobBackend.s3.open(partSize: Self.part)
        let store = try #require(fixture.store as? S3BlobStore)
        let client = try #require(fixture.client)
        return (fixture, store, client, store.layout)
    }

    @Test func aBlobsUploadBeginsWhenItsFirstPartIsWrittenAndEndsWithThePublish() async throws {
        let (fixture, store, client, layout) = try await open()
        defer { fixture.close() }
        let bytes = sampleBytes(2 * Self.part + 1000, seed: 11)
        let writer = try store.makeWriter()
        try bytes[..<(Self.part - 1)].withUnsafeBytes { try writer.write($0) }
        #expect(store.streamsInFlight == 0, "a blob smaller than a part is sent whole, later")
        try bytes[(Self.part - 1)...].withUnsafeBytes { try writer.write($0) }
        #expect(store.streamsInFlight == 1)
        let written = try writer.close()
        let stored = try await store.publish([written])
        #expect(stored == [StoredBlob(sha256: written.sha256, size: bytes.count, wasAlreadyStored: false)])
        #expect(store.streamsInFlight == 0)
        #expect(try await collect(try #require(try await store.read(written.sha256, range: nil))) == bytes)
        #expect(try await store.listBlobs().map(\.sha256) == [written.sha256])
        #expect(try await client.listObjects(prefix: layout.streamsPrefix).count == 1)
    }

    @Test func aDiscardedBlobsUploadIsAbortedInTheStore() async throws {
        let (fixture, store, client, layout) = try await open()
        defer { fixture.close() }
        // A writer given up mid-upload (a client gone, a limit passed) …
        let writer = try store.makeWriter()
        try sampleBytes(2 * Self.part + 10, seed: 12).withUnsafeBytes { try writer.write($0) }
        writer.discard()
        // … and a blob written whole that is not published (another part of its upload failed).
        let written = try fixture.write(sampleBytes(Self.part + 10, seed: 13))
        store.discard(written)
        await store.waitForAbortedUploads()
        #expect(store.streamsInFlight == 0)
        #expect(try await client.pendingUploads(prefix: client.configuration.location.key("")).isEmpty)
        #expect(try await client.listObjects(prefix: layout.streamsPrefix).isEmpty)
        #expect(fixture.spoolFiles.isEmpty)
    }

    @Test func equalLargeContentIsAbortedRatherThanKeptTwice() async throws {
        let (fixture, store, client, layout) = try await open()
        defer { fixture.close() }
        let bytes = sampleBytes(Self.part + 4096, seed: 14)
        let first = try await store.publish([try fixture.write(bytes)])
        let again = try await store.publish([try fixture.write(bytes, in: 777_777)])
        #expect(first.map(\.wasAlreadyStored) == [false])
        #expect(again.map(\.wasAlreadyStored) == [true])
        #expect(try await client.listObjects(prefix: layout.streamsPrefix).count == 1)
        #expect(try await client.pendingUploads(prefix: client.configuration.location.key("")).isEmpty)
    }

    @Test func removingAStreamedBlobRemovesItsLinkAndItsStream() async throws {
        let (fixture, store, client, _) = try await open()
        defer { fixture.close() }
        let written = try fixture.write(sampleBytes(Self.part * 2, seed: 15))
        _ = try await store.publish([written])
        #expect(try await store.contains(written.sha256))
        try await store.remove(written.sha256)
        #expect(try await !store.contains(written.sha256))
        #expect(try await store.read(written.sha256, range: nil) == nil)
        #expect(try await client.listObjects(prefix: client.configuration.location.key("")).isEmpty)
    }

    @Test func theSweepRemovesStreamsThatNoLinkOrRecentClaimNames() async throws {
        let (fixture, store, client, layout) = try await open()
        defer { fixture.close() }
        let linked = S3BlobLayout.newStreamID(), claimed = S3BlobLayout.newStreamID(), orphan = S3BlobLayout.newStreamID()
        let digest = String(repeating: "d", count: 64), missing = S3BlobLayout.newStreamID()
        for id in [linked, claimed, orphan] {
            try await client.putObject(key: layout.stream(id), payload: .init(Array("stream \(id)".utf8)))
        }
        try await client.putObject(key: layout.link(digest, stream: linked), payload: .init([]))
        try await client.putObject(key: layout.claim(claimed), payload: .init([]))
        try await client.putObject(key: layout.link(String(repeating: "e", count: 64), stream: missing), payload: .init([]))
        #expect(try await store.sweepAbandonedWrites(olderThan: .seconds(3600)) == 0, "all of it may be a publish in flight")

        // Every stream is old, the claim (made after them) is not: only the orphan goes.
        let streamsStored = try await client.listObjects(prefix: layout.streamsPrefix).map(\.lastModified).max()!
        let first = try await store.sweepAbandonedWrites(storedBy: streamsStored, uploadsBegunBy: 0)
        #expect(try await client.headObject(key: layout.stream(orphan)) == nil)
        #expect(try await client.headObject(key: layout.stream(claimed)) != nil)
        #expect(try await client.headObject(key: layout.claim(claimed)) != nil)

        // Once the claim is old too, its stream and it go, and so does the link to nothing (in
        // the first sweep already if it was stored within the same second as the streams).
        let latest = try await client.listObjects(prefix: client.configuration.location.key("")).map(\.lastModified).max()!
        let second = try await store.sweepAbandonedWrites(storedBy: latest + 1, uploadsBegunBy: 0)
        #expect([first, second] == [1, 3] || [first, second] == [2, 2])
        let left = try await client.listObjects(prefix: client.configuration.location.key("")).map(\.key).sorted()
        #expect(left == [layout.link(digest, stream: linked), layout.stream(linked)])
        #expect(try await store.listBlobs().map(\.sha256) == [digest])
    }

    @Test func aStreamStillBeingSentIsNotAbortedByTheGracePeriodAlone() async throws {
        let (fixture, store, client, layout) = try await open()
        defer { fixture.close() }
        _ = try await client.createMultipartUpload(key: layout.stream(S3BlobLayout.newStreamID()))
        let now = Int(Date().timeIntervalSince1970)
        #expect(try await store.sweepAbandonedWrites(storedBy: now + 60, uploadsBegunBy: now - 3600) == 0, "a slow client may be sending it")
        #expect(try await store.sweepAbandonedWrites(storedBy: now + 60, uploadsBegunBy: now + 60) == 1)
        #expect(try await client.pendingUploads(prefix: layout.streamsPrefix).isEmpty)
    }
}
