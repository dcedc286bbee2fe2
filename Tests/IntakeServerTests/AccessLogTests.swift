import Foundation
import HTTPTypes
import HummingbirdTesting
import IntakeServer
import Logging
import Synchronization
import Testing

/// Keeps every log record, for tests of what the service logs.
final class RecordingLogHandler: LogHandler, Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])
    var recorded: [Record] { records.withLock { $0 } }

    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        let record = Record(
            level: event.level, message: "\(event.message)", metadata: (event.metadata ?? [:]).mapValues { "\($0)" })
        records.withLock { $0.append(record) }
    }
}

@Suite struct AccessLogTests {
    /// One line per request at info, even for an upload: it names what was created, so that a
    /// busy server writes one line per upload, not two.
    @Test func anUploadIsOneInfoLineThatNamesTheUploadItCreated() async throws {
        let handler = RecordingLogHandler()
        let live = try LiveService { configuration in
            var logger = Logger(label: "test") { _ in handler }
            logger.logLevel = .info
            configuration.logger = logger
        }
        let (body, contentType) = uploadBody(file: "note.txt", type: "text/plain", data: Array("a note\n".utf8))
        let (id, requestID) = try await live.test { client in
            let created = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body)
            #expect(created.status == .created)
            return (try #require(try json(created)["id"] as? String), created.headers[HTTPField.Name("X-Request-ID")!])
        }
        let lines = handler.recorded.filter { $0.level >= .info && $0.metadata["path"] == "/uploads" }
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.message == "request")
        #expect(line.metadata["status"] == "201")
        #expect(line.metadata["method"] == "POST")
        #expect(line.metadata["location"] == "/uploads/\(id)")
        #expect(line.metadata["request"] == requestID)
        #expect(!handler.recorded.contains { $0.level >= .info && $0.message == "upload ingested" })
    }
}
