// store-bench [POSTGRES_URL]
//
// The job queue's own speed, with no work in the jobs: 4,000 documents are recorded (untimed),
// then 8 workers claim and complete jobs until the queue is empty; prints claims per second.
// Runs on a fresh SQLite file always, and on PostgreSQL when a database URL is given (the
// database must be empty or an earlier store-bench's: its tables are emptied first).
import Foundation
import Ingest
import IngestPostgres
import IngestSQLite

let documents = 4000
let workers = 8

func record(into store: any IntakeStore) async throws {
    for batch in stride(from: 0, to: documents, by: 100) {
        let upload = NewUpload(
            knowledgeBase: "bench", fields: [],
            documents: (batch..<min(batch + 100, documents)).map { index in
                NewDocument(
                    fieldName: "doc", filename: "\(index).txt", filenameStar: nil, declaredType: nil, detectedType: "text/plain",
                    charset: "utf-8", size: 1, sha256: String(repeating: "a", count: 64))
            })
        _ = try await store.record(upload)
    }
}

/// Claims per second of `workers` workers completing every job.
func claims(on store: any IntakeStore) async throws -> Double {
    try await record(into: store)
    let start = ContinuousClock.now
    let claimed = try await withThrowingTaskGroup(of: Int.self) { group in
        for worker in 0..<workers {
            group.addTask {
                var count = 0
                while let job = try await store.claim(worker: "bench-\(worker)", lease: .seconds(60)) {
                    try await store.complete(job, chunks: [], note: nil)
                    count += 1
                }
                return count
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = ContinuousClock.now - start
    guard claimed == documents else { throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "claimed \(claimed) of \(documents)"]) }
    return Double(claimed) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-bench-\(UUID().uuidString)").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }
let sqlite = try SQLiteStore(path: directory + "/intake.sqlite")
print(String(format: "sqlite      %8.0f claims/s  (%d workers, %d jobs, empty work)", try await claims(on: sqlite), workers, documents))
try await sqlite.close()

if CommandLine.arguments.count > 1 {
    let postgres = try await PostgresStore.open(PostgresLocation(url: CommandLine.arguments[1]), maximumConnections: workers)
    print(String(format: "postgresql  %8.0f claims/s  (%d workers, %d jobs, empty work)", try await claims(on: postgres), workers, documents))
    try await postgres.close()
}
