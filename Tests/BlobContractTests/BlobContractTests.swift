import Crypto
import Foundation
import Ingest
import IngestS3
import S3
import Testing

/// What every blob store does, run against each (``BlobBackend``).
@Suite struct BlobContractTests {
    @Test(arguments: BlobBackend.available)
    func aPublishedBlobIsReadWholeAndInRangesAndListed(_ backend: BlobBackend) async throws {
        let fixture = try await backend.open()
        defer { fixture.close() }
        let bytes = sampleBytes(3 << 20)
        let written = try fixture.write(bytes)
        #expect(written.sha256 == SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
        #expect(fixture.spoolFiles.count == 1)

        let stored = try await fixture.store.publish([written])
        #expect(stored == [StoredBlob(sha256: written.sha256, size: bytes.count, wasAlreadyStored: false)])
        #expect(fixture.spoolFiles.isEmpty)
        #expect(try await fixture.store.contains(written.sha256))

        let whole = try #require(try await fixture.store.read(written.sha256, range: nil))
        #expect(whole.size == bytes.count)
        #expect(whole.range == 0..<bytes.count)
        #expect(try await collect(whole) == bytes)
        for range in [0..<1, 1000..<70_000, (bytes.count - 10)..<bytes.count] {
            let part = try #require(try await fixture.store.read(written.sha256, range: range))
            #expect(part.range == range)
            #expect(part.size == bytes.count)
            #expect(try await collect(part) == Array(bytes[range]))
        }
        let listed = try await fixture.store.listBlobs()
        #expect(listed.map(\.sha256) == [written.sha256])
        #expect(abs(listed[0].storedAt - Int(Date().timeIntervalSince1970)) < 600)
    }

    @Test(arguments: BlobBackend.available)
    func equalContentIsStoredOnce(_ backend: BlobBackend) async throws {
        let fixture = try await backend.open()
        defer { fixture.close() }
        let bytes = sampleBytes(100_000, seed: 2)
        let first = try await fixture.store.publish([try fixture.write(bytes)])
        let again = try await fixture.store.publish([try fixture.write(bytes), try fixture.write(bytes, in: 999)])
        #expect(first.map(\.wasAlreadyStored) == [false])
        #expect(again.map(\.wasAlreadyStored) == [true, true])
        #expect(try await fixture.store.listBlobs().count == 1)
        #expect(fixture.spoolFiles.isEmpty)
    }

    @Test(arguments: BlobBackend.available)
    func aBlobLargerThanAPartIsStoredInPartsAndReadBack(_ backend: BlobBackend) async throws {
        let fixture = try await backend.open(partSize: 5 << 20)
        defer { fixture.close() }
        let bytes = sampleBytes((12 << 20) + 12_345, seed: 3)
        let written = try fixture.write(bytes, in: 100_003)
        _ = try await fixture.store.publish([written])
        let content = try #require(try await fixture.store.read(written.sha256, range: nil))
        #expect(try await collect(content) == bytes)
        let straddling = (5 << 20) - 10..<(5 << 20) + 10
        #expect(try await collect(try #require(try await fixture.store.read(written.sha256, range: straddling))) == Array(bytes[straddling]))
        if let client = fixture.client {
            // Sent as it arrived, under a stream that one link names: three parts, each checked by
            // the service, which keeps the checksum of their checksums; nothing else left behind.
            let layout = S3BlobLayout(location: client.configuration.location)
            let links = try await client.listObjects(prefix: layout.links(of: written.sha256))
            let link = try #require(links.count == 1 ? layout.parseLink(links[0].key) : nil)
            let info = try #require(try await client.headObject(key: layout.stream(link.id), checksum: true))
            #expect(info.size == bytes.count)
            #expect(info.checksumSHA256?.hasSuffix("-3") == true)
            #expect(try await client.headObject(key: layout.blob(written.sha256)) == nil, "not sent a second time whole")
            #expect(try await client.listObjects(prefix: layout.claimsPrefix).isEmpty)
            #expect(try await client.pendingUploads(prefix: client.configuration.location.key("")).isEmpty)
        }
    }

    @Test(arguments: BlobBackend.available)
    func aProcessorGetsALocalFileThatIsGoneAfterward(_ backend: BlobBackend) async throws {
        let fixture = try await backend.open()
        defer { fixture.close() }
        let bytes = sampleBytes(300_000, seed: 4)
        let written = try fixture.write(bytes)
        _ = try await fixture.store.publish([written])
        let path = try await fixture.store.withLocalFile(written.sha256) { (path) async throws -> String in
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == bytes)
            return path
        }
        if backend == .s3 {
            #expect(!FileManager.default.fileExists(atPath: path), "the temporary copy is removed")
            #expect(fixture.spoolFiles.isEmpty)
        }
    }

    @Test(arguments: BlobBackend.available)
    func aRemovedBlobIsGoneAndRemovingItAgainIsNoError(_ backend: BlobBackend) async throws {
        let fixture = try await backend.open()
        defer { fixture.close() }
        let written = try fixture.write(sampleBytes(1000, seed: 5))
        _ = try await fixture.store.publish([written])
        try await fixture.store.remove(written.sha256)
        #expect(try await !fixture.store.contains(written.sha256))
        #expect(try await fixture.store.read(written.sha256, range: nil) == nil)
        #expect(try await fixture.store.listBlobs().isEmpty)
        try await fixture.store.remove(written.sha256)
        #expect(try await fixture.store.read(String(repeating: "0", count: 64), range: nil) == nil)
    }

    @Test(arguments: BlobBackend.available)
    func anEmptyBlobIsStoredAndReadAsEmpty(_ backend: BlobBackend) async throws {
        let fixture = try await backend.open()
        defer { fixture.close() }
        let written = try fixture.write([])
        _ = try await fixture.store.publish([written])
        let content = try #require(try await fixture.store.read(written.sha256, range: nil))
        #expect(content.size == 0)
        #expect(try await collect(content).isEmpty)
    }
}
