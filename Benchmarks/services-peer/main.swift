// `services-peer PORT DATA_DIR`: `intake serve`'s service shaped to the contract of
// ../shared/peers/services (bench_services.sh), so it can run beside the other upload servers:
//
// - the same IntakeService, router, Ingestor, SQLite catalog and HTTP server configuration as
//   `intake serve` (access log at info, Expect: 100-continue, idle timeout, graceful shutdown);
// - blobs flat in DATA/blobs/<sha256> (`DirectoryBlobStore.Layout.flat`) and the SQLite database beside
//   DATA (DATA.sqlite), since the contract allows nothing else under DATA;
// - every type but executables accepted (the harness uploads random bytes);
// - a 201 from POST /uploads re-encoded as {"files":[{"filename","size","sha256"}]}.
//
// Unlike the built-in peers it also fsyncs the blobs directory after the rename, and commits
// each upload to SQLite (WAL, synchronous=FULL) before answering: more durable, more fsyncs.
import Foundation
import Hummingbird
import Ingest
import IngestSQLite
import IntakeRuntime
import IntakeServer
import Logging

let arguments = CommandLine.arguments
guard arguments.count == 3, let port = Int(arguments[1]) else {
    FileHandle.standardError.write(Data("usage: services-peer PORT DATA_DIR\n".utf8))
    exit(2)
}
let dataDirectory = URL(fileURLWithPath: arguments[2]).standardizedFileURL.path

var configuration = ServerConfiguration()
configuration.port = port
configuration.dataDirectory = dataDirectory
configuration.node.blobLayout = .flat
configuration.policy = .anythingButExecutables
configuration.workers = 0  // the peers store uploads and do no more; so does this run
var logger = Logger(label: "intake")
logger.logLevel = .info
configuration.logger = logger

let service = try IntakeService(configuration: configuration) { _ in try SQLiteStore(path: dataDirectory + ".sqlite") }
try await service.run(service.application(responder: ContractResponder(base: service.router().buildResponder())))
