import Foundation
import Ingest
import IngestS3
import NIOCore
import Testing
import S3
import Synchronization

/// A blob store the contract suite runs against: the data directory always; SeaweedFS (or any
/// S3 service) when `INTAKE_TEST_S3_ENDPOINT` names one, with the credentials in
/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (`.ci/run` starts SeaweedFS and sets them).
enum BlobBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case directory
    case s3

    static var available: [BlobBackend] { S3Server.fromEnvironment == nil ? [.directory] : [.directory, .s3] }

    var description: String { rawValue }

    /// A new, empty store (a fresh directory, or a fresh prefix in the test bucket) and its
    /// spool directory; `close` removes what it made.
    func open(partSize: Int = 5 << 20) async throws -> BlobFixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-blobs-\(UUID().uuidString)").path
        switch self {
        case .directory:
            return BlobFixture(store: try DirectoryBlobStore(root: directory), directory: directory, client: nil)
        case .s3:
            let client = try await S3Server.fromEnvironment!.client(prefix: "test-\(UUID().uuidString.lowercased())")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let store = try S3BlobStore(client: client, spoolDirectory: directory + "/tmp", partSize: partSize)
            return BlobFixture(store: store, directory: directory, client: client)
        }
    }
}

/// The S3 service the tests may use.
struct S3Server: Sendable {
    var endpoint: String
    var credentials: S3Credentials
    static let bucket = "intake-test"

    static var fromEnvironment: S3Server? {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["INTAKE_TEST_S3_ENDPOINT"], !endpoint.isEmpty,
            let credentials = S3Credentials.fromEnvironment(environment)
        else { return nil }
        return S3Server(endpoint: endpoint, credentials: credentials)
    }

    /// A client for `prefix` in the test bucket, which it creates if needed.
    func client(prefix: String, endpoint: String? = nil, attempts: Int = 4) async throws -> S3Client {
        var configuration = S3Configuration(
            location: try S3Location(bucket: Self.bucket, prefix: prefix), endpoint: endpoint ?? self.endpoint, credentials: credentials)
        configuration.attempts = attempts
        configuration.firstRetryDelay = .milliseconds(10)
        configuration.requestTimeout = .seconds(10)
        configuration.connectTimeout = .seconds(1)
        let client = try S3Client(configuration)
        if endpoint == nil { try await Self.makeBucketOnce(with: client) }
        return client
    }

    /// The test bucket is made once per test process, by the first client: SeaweedFS now and then
    /// answers one of many concurrent creations of a bucket with NoSuchBucket. A failed creation is
    /// tried again by the next client.
    private static let bucketCreation = Mutex<Task<Void, any Error>?>(nil)

    private static func makeBucketOnce(with client: S3Client) async throws {
        let creation = bucketCreation.withLock { creation in
            if let creation { return creation }
            let made = Task { () async throws in try await client.createBucket() }
            creation = made
            return made
        }
        do {
            try await creation.value
        } catch {
            bucketCreation.withLock { if $0 == creation { $0 = nil } }
            throw error
        }
    }
}

struct BlobFixture {
    var store: any BlobStore
    var directory: String
    var client: S3Client?

    var spoolFiles: [String] { (try? FileManager.default.contentsOfDirectory(atPath: store.spool.directory)) ?? [] }

    /// Spools `bytes` as a new blob.
    func write(_ bytes: [UInt8], in pieces: Int = 64 << 10) throws -> WrittenBlob {
        let writer = try store.makeWriter()
        for start in stride(from: 0, to: bytes.count, by: pieces) {
            try bytes[start..<min(start + pieces, bytes.count)].withUnsafeBytes { try writer.write($0) }
        }
        return try writer.close()
    }

    /// Removes the spool and data directory now, and closes the store's connections soon (a
    /// test's `defer` cannot wait).
    func close() {
        try? FileManager.default.removeItem(atPath: directory)
        let store = self.store
        Task { await store.shutdown() }
    }
}

/// Deterministic bytes that do not repeat within a part.
func sampleBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

func collect(_ content: BlobContent) async throws -> [UInt8] {
    var bytes: [UInt8] = []
    for try await buffer in content.bytes { bytes += buffer.readableBytesView }
    return bytes
}

@Suite struct BlobContractCoverageTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CI"] != nil, "only CI promises SeaweedFS"))
    func ciRunsTheBlobContractSuiteOnSeaweedFS() {
        #expect(BlobBackend.available == [.directory, .s3], "INTAKE_TEST_S3_ENDPOINT is not set: .ci/run starts SeaweedFS and sets it")
    }
}
