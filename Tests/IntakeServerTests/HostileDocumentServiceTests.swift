import Foundation
import Hummingbird
import HummingbirdTesting
import Ingest
import IngestSQLite
import IntakeRuntime
import IntakeServer
import IntakeTesting
import KnowledgeBase
import Testing

/// The processes whose command line mentions `text`.
private func processes(mentioning text: String) -> [String] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { $0.allSatisfy(\.isNumber) }.filter { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: data, as: UTF8.self).contains(text)
    }
}

private func isZombie(_ pid: String) -> Bool {
    ((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? "").contains(") Z ")
}

@Suite struct HostileDocumentServiceTests {
    @Test(.enabled(if: pdftotextIsInstalled), .timeLimit(.minutes(3)))
    func healthChecksAndUploadsAnswerWhileEveryWorkerChewsOnAHostilePDF() async throws {
        let live = try LiveService { configuration in
            configuration.workers = 2
            configuration.extractionHelper = try BuiltIntake.extractionHelper
        }
        defer { try? FileManager.default.removeItem(atPath: live.directory) }
        // Two PDFs that draw a billion nested forms each: hours of pdftotext, were it not bounded.
        let ids = try await live.test(keepData: true) { api -> [String] in
            var ids: [String] = []
            for salt in ["first", "second"] {
                let (body, contentType) = uploadBody(file: "\(salt).pdf", type: "application/pdf", data: HostileDocuments.pdfOfNestedForms(salt: salt))
                let created = try await api.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body)
                #expect(created.status == .created)
                ids.append(try #require(((try json(created))["documents"] as? [[String: Any]])?.first?["id"] as? String))
            }
            return ids
        }
        let workers = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in live.service.node.workers() { group.addTask { await worker.worker.run() } }
            }
        }
        while try await ids.asyncMap({ try await live.service.database.document(id: $0)?.status }).contains(where: { $0 != .processing }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        // Both workers are busy with a hostile document: the server still answers.
        try await live.test(keepData: true) { api in
            let health = try await api.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            let (body, contentType) = uploadBody(file: "sample.txt", type: "text/plain", data: try fixture("sample.txt"))
            #expect(try await api.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body).status == .created)
        }
        for id in ids { #expect(try await live.service.database.document(id: id)?.status == .processing) }
        // Shutting the workers down kills their extraction processes and whatever those started.
        #expect(!processes(mentioning: live.directory).isEmpty)
        workers.cancel()
        await workers.value
        // SIGKILL has been sent to each extraction's process group; the kernel finishes them off
        // (an orphaned pdftotext is reaped by init): wait for that, not for a time.
        while !processes(mentioning: live.directory).filter({ !isZombie($0) }).isEmpty {
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
