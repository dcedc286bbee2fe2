import ArgumentParser
import Foundation
import Ingest
import IngestS3
import IntakeRuntime
import Logging
import S3

/// Where a command keeps document bytes: the data directory's `blobs/` by default, or an
/// S3-compatible bucket (`--blobs s3://BUCKET[/PREFIX]`), with the credentials in the standard
/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` variables. `serve`,
/// `worker` and `ingest --data-dir` take these options.
struct BlobOptions: ParsableArguments {
    @Option(
        name: .customLong("blobs"),
        help: ArgumentHelp(
            "Keep documents in an S3-compatible bucket, s3://BUCKET[/PREFIX] (default: INTAKE_BLOBS; without either, blobs/ in the data directory). Credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.",
            valueName: "location"))
    var blobsOption: String?

    @Option(
        name: .customLong("s3-endpoint"),
        help: ArgumentHelp("The S3 service's URL for anything but AWS, e.g. http://127.0.0.1:8333 (default: INTAKE_S3_ENDPOINT); path-style addressing.", valueName: "url"))
    var endpointOption: String?

    @Option(
        name: .customLong("s3-region"),
        help: ArgumentHelp("The bucket's region (default: AWS_REGION, else us-east-1).", valueName: "region"))
    var regionOption: String?

    var location: String? { blobsOption ?? EnvironmentDefaults.optionalString("INTAKE_BLOBS") }
    var endpoint: String? { endpointOption ?? EnvironmentDefaults.optionalString("INTAKE_S3_ENDPOINT") }
    var region: String { regionOption ?? EnvironmentDefaults.optionalString("AWS_REGION") ?? "us-east-1" }

    func validate() throws {
        guard let configuration = try s3Configuration() else {
            if endpointOption != nil || regionOption != nil { throw ValidationError("--s3-endpoint and --s3-region go with --blobs s3://….") }
            return
        }
        do {
            try configuration.checkEndpoint()
        } catch {
            throw ValidationError("--s3-endpoint: \(error.message).")
        }
    }

    /// The bucket's configuration, or nil for the data directory.
    func s3Configuration() throws -> S3Configuration? {
        guard let location else { return nil }
        let parsed: S3Location
        do {
            parsed = try S3Location(location)
        } catch {
            throw ValidationError("--blobs: \(error.message).")
        }
        guard let credentials = S3Credentials.fromEnvironment(ProcessInfo.processInfo.environment) else {
            throw ValidationError("--blobs \(parsed) needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones).")
        }
        return S3Configuration(location: parsed, endpoint: endpoint, region: region, credentials: credentials)
    }

    /// What the blob store is, for logs.
    var summary: String { location.flatMap { try? S3Location($0) }.map { "\($0)" + (endpoint.map { " at \($0)" } ?? "") } ?? "data directory" }

    /// Opens the blob store for a node: the bucket, spooling in the data directory's `tmp/`, or
    /// the data directory itself.
    func open(_ node: NodeConfiguration) throws -> any BlobStore {
        guard let configuration = try s3Configuration() else { return try IntakeNode.directoryBlobs(node) }
        var logger = node.logger
        logger[metadataKey: "blobs"] = "\(configuration.location)"
        return try S3BlobStore(client: try S3Client(configuration, logger: logger), spoolDirectory: node.dataDirectory + "/tmp")
    }
}
