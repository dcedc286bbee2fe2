import Foundation
import Ingest
import IngestS3
import IntakeTesting
import S3
import Testing

/// What only an object store can do wrong: refuse bytes whose checksum does not match, be
/// unreachable, keep an unfinished multipart upload. Against SeaweedFS in CI.
@Suite(.enabled(if: S3Server.fromEnvironment != nil, "INTAKE_TEST_S3_ENDPOINT names no S3 service"))
struct S3BlobStoreTests {
    @Test func bytesThatDoNotMatchTheirChecksumAreRefusedAndNothingIsStored() async throws {
        let fixture = try await BlobBackend.s3.open()
        defer { fixture.close() }
        let written = try fixture.write(sampleBytes(50_000, seed: 6))
        // The spooled file changes between hashing and sending: the service must notice.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: written.temporaryPath))
        try handle.seek(toOffset: 100)
        handle.write(Data([0xFF, 0xFF, 0xFF]))
        try handle.close()
        var failure: StorageError?
        let small = try fixture.write(sampleBytes(10, seed: 7))
        do { _ = try await fixture.store.publish([small, written]) } catch { failure = error }
        #expect(failure?.code == .rejected)
        #expect(try await !fixture.store.contains(written.sha256))
        #expect(fixture.spoolFiles.isEmpty)
    }

    @Test func aPartThatDoesNotMatchItsChecksumFailsTheUploadAndItIsAborted() async throws {
        let fixture = try await BlobBackend.s3.open(partSize: 5 << 20)
        defer { fixture.close() }
        let written = try fixture.write(sampleBytes(11 << 20, seed: 8))
        // Two full parts went out while the blob was written; the last, sent by the publish, changes.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: written.temporaryPath))
        try handle.seek(toOffset: (10 << 20) + 100)
        handle.write(Data([0x00, 0x01]))
        try handle.close()
        var failure: StorageError?
        do { _ = try await fixture.store.publish([written]) } catch { failure = error }
        #expect(failure?.code == .rejected)
        let client = try #require(fixture.client)
        #expect(try await client.pendingUploads(prefix: client.configuration.location.key("")).isEmpty)
        #expect(try await client.listObjects(prefix: client.configuration.location.key("")).isEmpty, "no stream, link or claim")
        #expect(try await !fixture.store.contains(written.sha256))
        #expect(fixture.spoolFiles.isEmpty)
    }

    @Test func anUnreachableServiceIsUnavailableAfterItsRetriesAndTheSpoolIsCleared() async throws {
        let server = try #require(S3Server.fromEnvironment)
        let port = try LoopbackPort.unused()
        let client = try await server.client(prefix: "unreachable", endpoint: "http://127.0.0.1:\(port)", attempts: 3)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-unreachable-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try S3BlobStore(client: client, spoolDirectory: directory + "/tmp")
        let fixture = BlobFixture(store: store, directory: directory, client: client)
        defer { fixture.close() }
        var failure: StorageError?
        let written = try fixture.write(sampleBytes(1000))
        do { _ = try await store.publish([written]) } catch { failure = error }
        #expect(failure?.code == .unavailable)
        #expect(fixture.spoolFiles.isEmpty)
        failure = nil
        do { _ = try await store.read(String(repeating: "a", count: 64), range: nil) } catch { failure = error }
        #expect(failure?.code == .unavailable)
    }

    @Test func aLocalCopyWhoseBytesAreNotTheBlobsIsRefused() async throws {
        let fixture = try await BlobBackend.s3.open()
        defer { fixture.close() }
        let client = try #require(fixture.client)
        // Someone else wrote other bytes under a blob's name.
        let name = String(repeating: "c", count: 64)
        try await client.putObject(key: client.configuration.location.key("blobs/\(name)"), payload: .init(Array("not that content".utf8)))
        var failure: StorageError?
        do {
            _ = try await fixture.store.withLocalFile(name) { (_) async throws -> Bool in
                Issue.record("the processor must not see the copy")
                return true
            }
        } catch let error as StorageError {
            failure = error
        }
        #expect(failure?.code == .rejected)
        #expect(fixture.spoolFiles.isEmpty)
    }

    @Test func theSweepAbortsMultipartUploadsLeftUnfinished() async throws {
        let fixture = try await BlobBackend.s3.open()
        defer { fixture.close() }
        let client = try #require(fixture.client)
        let key = client.configuration.location.key("blobs/" + String(repeating: "b", count: 64))
        _ = try await client.createMultipartUpload(key: key)
        #expect(try await fixture.store.sweepAbandonedWrites(olderThan: .seconds(3600)) == 0, "a young upload may be in flight on another node")
        #expect(try await fixture.store.sweepAbandonedWrites(olderThan: .seconds(-60)) == 1)
        #expect(try await client.pendingUploads(prefix: client.configuration.location.key("blobs/")).isEmpty)
    }

    @Test func theLocationIsABucketAndASafePrefix() throws {
        #expect(try S3Location("s3://docs-1/kb/a").prefix == "kb/a")
        #expect(try S3Location("s3://docs-1/kb/").prefix == "kb")
        #expect(try S3Location("s3://docs-1").prefix == "")
        for bad in ["docs", "s3://", "s3://Docs", "s3://a", "s3://docs/../x", "s3://docs/a//b", "s3://docs/a b", "s3://-docs"] {
            #expect(throws: S3Error.self, "\(bad)") { try S3Location(bad) }
        }
    }
}
