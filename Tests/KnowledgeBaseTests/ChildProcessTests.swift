import Foundation
import KnowledgeBase
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Whether process `pid` is gone (or a zombie nobody will wait for: as good as gone).
private func isGone(_ pid: pid_t) -> Bool {
    if kill(pid, 0) != 0 { return true }
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    return status.contains("State:\tZ")
}

@Suite("ChildProcess")
struct ChildProcessTests {
    @Test func aChildStartedFromTheCooperativePoolBlocksNoSignalAndIgnoresNone() async throws {
        let outcome = try await ChildProcess(executable: "/bin/sh", arguments: ["-c", "grep -E '^Sig(Blk|Ign):' /proc/self/status"]).run()
        #expect(outcome.ending == .exited(0))
        let masks = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n").compactMap { line in
            line.split(separator: "\t").last.flatMap { UInt64($0, radix: 16) }
        }
        // Signals 1–31 (SIGTERM among them); glibc keeps 32 and 33 for itself.
        #expect(masks.count == 2 && masks.allSatisfy { $0 & 0x7fff_ffff == 0 }, "\(masks)")
    }

    @Test(.timeLimit(.minutes(1))) func aChildReadsItsInputAndOneThatDoesNotIsStillHeldToItsDeadline() async throws {
        // 4 MiB, more than a pipe holds: written beside the reading of the output.
        let input = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var copy = ChildProcess(executable: "/bin/cat", arguments: [], outputLimit: 8 << 20)
        copy.input = input
        let copied = try await copy.run()
        #expect(copied.ending == .exited(0))
        #expect(copied.output == input)
        // A child that never reads its input: killed at its deadline, the writer not left hanging.
        var stubborn = ChildProcess(executable: "/bin/sleep", arguments: ["1000"], deadline: .milliseconds(200))
        stubborn.input = input
        let stopped = try await stubborn.run()
        #expect(stopped.exceededDeadline)
        // Without input the child reads an empty standard input.
        let empty = try await ChildProcess(executable: "/bin/cat", arguments: []).run()
        #expect(empty.ending == .exited(0) && empty.output.isEmpty)
    }

    @Test func aChildLeadsAProcessGroupOfItsOwn() async throws {
        let outcome = try await ChildProcess(executable: "/bin/sh", arguments: ["-c", "echo $$; ps -o pgid= -p $$"]).run()
        let fields = String(decoding: outcome.output, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        #expect(fields.count == 2 && fields[0] == fields[1])
    }

    @Test(.timeLimit(.minutes(1))) func aChildPastItsDeadlineIsKilledWithEverythingItStarted() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-child-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A grandchild that ignores SIGTERM and holds the pipes open, and a child that waits for it.
        let child = ChildProcess(
            executable: "/bin/sh", arguments: ["-c", "trap '' TERM; sleep 1000 & echo $! > \(directory)/grandchild; wait"],
            deadline: .milliseconds(300))
        let outcome = try await child.run()
        #expect(outcome.exceededDeadline)
        #expect(outcome.ending == .signalled(SIGKILL))
        let grandchild = try #require(pid_t(try String(contentsOfFile: directory + "/grandchild", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(isGone(grandchild))
    }

    @Test(.timeLimit(.minutes(1))) func cancellingTheCallerKillsTheChildAndEverythingItStarted() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-child-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let child = ChildProcess(executable: "/bin/sh", arguments: ["-c", "sleep 1000 & echo $! > \(directory)/grandchild.tmp; mv \(directory)/grandchild.tmp \(directory)/grandchild; wait"])
        let running = Task { try await child.run() }
        while !FileManager.default.fileExists(atPath: directory + "/grandchild") { try await Task.sleep(for: .milliseconds(10)) }
        running.cancel()
        await #expect(throws: CancellationError.self) { try await running.value }
        let grandchild = try #require(pid_t(try String(contentsOfFile: directory + "/grandchild", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(isGone(grandchild))
    }

    @Test func outputPastTheLimitStopsTheChildAndKeepsExactlyTheLimit() async throws {
        let outcome = try await ChildProcess(executable: "/bin/sh", arguments: ["-c", "yes intake"], outputLimit: 100_000).run()
        #expect(outcome.exceededOutputLimit)
        #expect(outcome.output.count == 100_000)
        #expect(outcome.ending == .signalled(SIGKILL))
    }

    @Test func standardErrorIsReadBesideStandardOutputSoNeitherPipeStallsTheChild() async throws {
        // 1 MiB on stderr before anything on stdout: a reader of stdout alone would wait forever.
        let outcome = try await ChildProcess(
            executable: "/bin/sh", arguments: ["-c", "head -c 1048576 /dev/zero >&2; echo done"], errorLimit: 1_000
        ).run()
        #expect(outcome.ending == .exited(0))
        #expect(String(decoding: outcome.output, as: UTF8.self) == "done\n")
        #expect(outcome.errorOutput.count == 1_000)
    }

    @Test func aProgramThatCannotBeStartedIsALaunchErrorNamingIt() async throws {
        await #expect(throws: ChildProcess.LaunchError.self) {
            try await ChildProcess(executable: "/nonexistent/pdftotext", arguments: []).run()
        }
    }
}
