import Foundation
import IntakeClient
import IntakeTesting
import IntakeServer
import Testing

@Suite("BulkIngest against a live server")
struct BulkIngestLiveTests {
    /// A tree with nested folders, hidden files, a symbolic-link loop, an empty file, a refused
    /// type, and one content under two names.
    private func makeTree() throws -> FileTree {
        let tree = try FileTree()
        try tree.write("handbook.pdf", try fixture("sample.pdf"))
        try tree.write("guides/setup.md", "# Setup\n\nInstall it, then run it.\n")
        try tree.write("guides/deep/er/notes.txt", "the same notes\n")
        try tree.write("archive/notes-copy.txt", "the same notes\n")
        try tree.write("guides/logo.png", try fixture("sample.png"))
        try tree.write("tools/run", try fixture("sample.elf"))
        try tree.write("empty.txt", "")
        try tree.write(".secret/token.txt", "do not send")
        try tree.write(".git/HEAD", "ref: refs/heads/main\n")
        try tree.link("guides/deep/loop", to: "../..")
        return tree
    }

    @Test func aTreeIsUploadedOnceAndASecondRunSkipsEverything() async throws {
        let tree = try makeTree()
        defer { tree.remove() }
        let live = try LiveServer()
        try await live.run { url in
            var options = SourceTree.Options()
            options.followSymlinks = true  // the loop must end, and nothing is listed twice
            let files = SourceTree(paths: [tree.root], options: options).files
            #expect(files.count == 7)

            let log = ReportLog()
            let summary = try await LiveServer.withTarget(url) { target in
                await BulkIngest(concurrency: 3).run(files, into: target) { await log.add($0) }
            }
            #expect(summary.files == 7)
            #expect(summary.uploaded == 4)  // handbook.pdf, setup.md, logo.png, one of the notes
            #expect(summary.skipped == 2)  // the other notes file, and the empty file
            #expect(summary.failed == 1)  // the executable
            let refused = try #require(await log.report(endingWith: "tools/run"))
            #expect(refused.status == .failed)
            #expect(refused.error?.hasPrefix("415 type_rejected:") == true)
            #expect(refused.attempts == 1)  // a 415 is not retried
            #expect(await log.report(endingWith: "empty.txt")?.note == "empty file")
            let notes = [await log.report(endingWith: "er/notes.txt"), await log.report(endingWith: "notes-copy.txt")].compactMap { $0 }
            #expect(Set(notes.map(\.status)) == [.uploaded, .skipped])
            #expect(notes[0].documentID == notes[1].documentID)
            #expect(try await live.documentCount() == 4)

            // Again: everything already there is skipped, nothing new is created.
            let again = try await LiveServer.withTarget(url) { target in
                await BulkIngest(concurrency: 3).run(files, into: target) { _ in }
            }
            #expect(again.uploaded == 0)
            #expect(again.skipped == 6)
            #expect(again.failed == 1)
            #expect(try await live.documentCount() == 4)
        }
    }

    @Test func aDryRunLooksUpEveryFileAndSendsNothing() async throws {
        let tree = try FileTree()
        defer { tree.remove() }
        let stored = try tree.write("stored.txt", "already on the server\n")
        try tree.write("new.txt", "not yet on the server\n")
        let live = try LiveServer()
        try await live.run { url in
            _ = try await LiveServer.withTarget(url) { target in
                await BulkIngest().run(SourceTree(paths: [stored]).files, into: target) { _ in }
            }
            let log = ReportLog()
            let summary = try await LiveServer.withTarget(url) { target in
                await BulkIngest(dryRun: true).run(SourceTree(paths: [tree.root]).files, into: target) { await log.add($0) }
            }
            #expect(summary.uploaded == 0 && summary.skipped == 2 && summary.failed == 0)
            #expect(await log.report(endingWith: "new.txt")?.note == "dry run: would upload")
            #expect(await log.report(endingWith: "stored.txt")?.note == "already stored")
            #expect(try await live.documentCount() == 1)
        }
    }

    @Test func aRetriedUploadWithTheSameKeyIsReplayedAndCreatesNoSecondDocument() async throws {
        let tree = try FileTree()
        defer { tree.remove() }
        let path = try tree.write("report.txt", "quarterly numbers, all of them\n")
        let file = try #require(SourceTree(paths: [path]).files.first)
        let digest = try await FileDigest.sha256(ofFileAt: path)
        let request = UploadRequest(file: file, sha256: digest.sha256, fields: [("title", "Q3")])
        let live = try LiveServer()
        try await live.run { url in
            try await LiveServer.withTarget(url) { target in
                // As if the first response had been lost: the same request again.
                let first = try await target.upload(request, progress: ByteCounter())
                let second = try await target.upload(request, progress: ByteCounter())
                #expect(first == second)
                #expect(try await target.existingDocument(sha256: digest.sha256) == first)
            }
            #expect(try await live.documentCount() == 1)
        }
    }

    @Test func contentIsLookedUpInTheTargetKnowledgeBaseOnly() async throws {
        let tree = try FileTree()
        defer { tree.remove() }
        let path = try tree.write("shared.txt", "content both teams keep\n")
        let files = SourceTree(paths: [path]).files
        let live = try LiveServer()
        try await live.run { url in
            for knowledgeBase in ["legal", "sales", "legal"] {
                _ = try await LiveServer.withTarget(url, knowledgeBase: knowledgeBase) { target in
                    await BulkIngest().run(files, into: target) { _ in }
                }
            }
            #expect(try await live.documentCount(knowledgeBase: "legal") == 1)
            #expect(try await live.documentCount(knowledgeBase: "sales") == 1)
        }
    }

    @Test func aServerThatIsNotThereIsRetriedThenReportedPerFile() async throws {
        let tree = try FileTree()
        defer { tree.remove() }
        let path = try tree.write("a.txt", "text\n")
        // A port bound and not listening, kept so for the test: connection refused on every attempt
        // (a port merely found unused could be taken meanwhile by another test's server).
        let refusing = try LoopbackPort.refusing()
        let summary = try await LiveServer.withTarget(URL(string: "http://127.0.0.1:\(refusing.port)")!, connectTimeout: .milliseconds(300)) { target in
            await BulkIngest(retry: RetryPolicy(maximumAttempts: 3, baseDelay: .milliseconds(10), maximumDelay: .milliseconds(20)))
                .run(SourceTree(paths: [path]).files, into: target) { _ in }
        }
        #expect(summary.failed == 1)
        #expect(summary.failures.first?.attempts == 3)
        #expect(summary.failures.first?.error?.hasPrefix("network:") == true)
        #expect(summary.failures.first?.error?.hasSuffix("(after 3 attempts)") == true)
        withExtendedLifetime(refusing) {}
    }
}
