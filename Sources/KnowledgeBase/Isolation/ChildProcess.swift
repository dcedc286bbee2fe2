import CIngestShims
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A program run as a child process under bounds: a clean signal mask, optionally a process group
/// of its own, a wall-clock deadline after which its group gets SIGKILL, its output read
/// concurrently with its error output and capped. Supervision (spawning, reading, waiting) runs on
/// a thread of its own, never on Swift's cooperative pool; cancelling the calling task kills the
/// child (and its group) at once.
#if canImport(Glibc)
    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    private let systemWrite = Darwin.write
#endif

public struct ChildProcess: Sendable {
    /// Where the child stands among process groups.
    public enum ProcessGroup: Sendable, Hashable {
        /// A new group led by the child: killing it kills everything the child started.
        case new
        /// The caller's group (a helper started by a child that is itself a group's leader).
        case inherit
    }

    public var executable: String
    public var arguments: [String]
    /// The environment; nil: the caller's.
    public var environment: [String: String]?
    public var processGroup: ProcessGroup
    /// How long the child may run before it (and its group) gets SIGKILL; nil: no deadline.
    public var deadline: Duration?
    /// The most bytes of standard output kept; past it the child is killed.
    public var outputLimit: Int
    /// The most bytes of standard error kept; the rest is read and dropped.
    public var errorLimit: Int
    /// Bytes written to the child's standard input (then closed); nil: `/dev/null`. Written from a
    /// thread of their own, so a child that stops reading them is still held to its deadline.
    public var input: [UInt8]? = nil
    /// Whether the child gets SIGKILL when the thread supervising it ends, as it does when this
    /// process is killed (Linux): nothing runs on unsupervised, past every bound.
    public var diesWithParent: Bool = true

    public init(
        executable: String, arguments: [String], environment: [String: String]? = nil, processGroup: ProcessGroup = .new,
        deadline: Duration? = nil, outputLimit: Int = 8 << 20, errorLimit: Int = 64 << 10
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.processGroup = processGroup
        self.deadline = deadline
        self.outputLimit = outputLimit
        self.errorLimit = errorLimit
    }

    /// How a child ended.
    public struct Outcome: Sendable {
        public enum Ending: Sendable, Hashable {
            case exited(Int32)
            case signalled(Int32)
        }
        public var ending: Ending
        /// Standard output, at most ``ChildProcess/outputLimit`` bytes.
        public var output: [UInt8]
        /// Standard error, at most ``ChildProcess/errorLimit`` bytes.
        public var errorOutput: [UInt8]
        /// Whether the child was killed for writing more than ``ChildProcess/outputLimit``.
        public var exceededOutputLimit: Bool
        /// Whether the child was killed at its deadline.
        public var exceededDeadline: Bool
        /// Whether the child was killed because the calling task was cancelled.
        public var wasCancelled: Bool
        /// The child's peak resident memory, in bytes.
        public var peakMemoryBytes: Int
        /// The CPU time (user and system) the child used.
        public var cpuTime: Duration

        /// Standard error as text, trimmed.
        public var errorText: String {
            String(decoding: errorOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Why a child could not be started.
    public struct LaunchError: Error, Sendable, CustomStringConvertible {
        public var executable: String
        public var errno: Int32
        public var description: String { "\(executable) could not be started: \(String(cString: strerror(errno)))" }
    }

    /// Runs the child to its end (or its deadline, or until the calling task is cancelled).
    public func run() async throws -> Outcome {
        let control = Control()
        let outcome = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Outcome, any Error>) in
                let job = self
                Thread.detachNewThread {
                    continuation.resume(with: Result { try job.supervise(control) })
                }
            }
        } onCancel: {
            control.cancel()
        }
        if outcome.wasCancelled { throw CancellationError() }
        return outcome
    }

    // MARK: - Supervision (on its own thread)

    /// The child's pid while it can be signalled, and whether the caller gave up on it.
    final class Control: Sendable {
        private struct State {
            var pid: pid_t?
            var cancelled = false
        }
        private let state = Mutex(State())

        func cancel() {
            state.withLock { state in
                state.cancelled = true
                if let pid = state.pid { ChildProcess.killGroupOrProcess(pid) }
            }
        }

        /// Records the started child; false if the caller has already cancelled (then it is killed).
        func started(_ pid: pid_t) -> Bool {
            state.withLock { state in
                state.pid = pid
                if state.cancelled { ChildProcess.killGroupOrProcess(pid) }
                return !state.cancelled
            }
        }

        /// Called before the child is reaped: after this its pid may be reused, so nothing is sent to it.
        func reaping() { state.withLock { $0.pid = nil } }

        var isCancelled: Bool { state.withLock { $0.cancelled } }
    }

    /// Kills `pid`'s process group if it leads one, else `pid` alone.
    fileprivate static func killGroupOrProcess(_ pid: pid_t) {
        if getpgid(pid) == pid { kill(-pid, SIGKILL) } else { kill(pid, SIGKILL) }
    }

    private func supervise(_ control: Control) throws -> Outcome {
        var outputPipe: [Int32] = [-1, -1]
        var errorPipe: [Int32] = [-1, -1]
        guard intake_pipe_cloexec(&outputPipe) == 0 else { throw LaunchError(executable: executable, errno: errno) }
        guard intake_pipe_cloexec(&errorPipe) == 0 else {
            let code = errno
            close(outputPipe[0]); close(outputPipe[1])
            throw LaunchError(executable: executable, errno: code)
        }
        var inputPipe: [Int32] = [-1, -1]
        if input != nil, intake_pipe_cloexec(&inputPipe) != 0 {
            let code = errno
            close(outputPipe[0]); close(outputPipe[1]); close(errorPipe[0]); close(errorPipe[1])
            throw LaunchError(executable: executable, errno: code)
        }
        var pid: pid_t = 0
        let argv = [executable] + arguments
        let envp = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let spawnError = withCStrings(argv) { argv in
            withCStrings(envp) { envp in
                intake_spawn_with_input(
                    executable, argv, envp, inputPipe[0], outputPipe[1], errorPipe[1], processGroup == .new ? 1 : 0, diesWithParent ? 1 : 0, &pid)
            }
        }
        close(outputPipe[1])
        close(errorPipe[1])
        if inputPipe[0] >= 0 { close(inputPipe[0]) }
        guard spawnError == 0 else {
            close(outputPipe[0]); close(errorPipe[0])
            if inputPipe[1] >= 0 { close(inputPipe[1]) }
            throw LaunchError(executable: executable, errno: spawnError)
        }
        if let input {
            let descriptor = inputPipe[1]
            Thread.detachNewThread { Self.write(input, to: descriptor) }
        }
        let leadsGroup = processGroup == .new
        let wasCancelled = !control.started(pid)
        var outcome = drain(pid: pid, output: outputPipe[0], error: errorPipe[0], control: control, leadsGroup: leadsGroup)
        outcome.wasCancelled = outcome.wasCancelled || wasCancelled
        return outcome
    }

    /// Writes `bytes` to the pipe `descriptor` and closes it; stops when the reader is gone (the
    /// SIGPIPE that would bring is blocked on this thread: the write fails with EPIPE instead).
    private static func write(_ bytes: [UInt8], to descriptor: Int32) {
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            written += count
        }
    }

    /// Reads both pipes until they close, enforcing the deadline and the output limit; then reaps.
    private func drain(pid: pid_t, output: Int32, error: Int32, control: Control, leadsGroup: Bool) -> Outcome {
        defer { close(output); close(error) }
        _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) | O_NONBLOCK)
        _ = fcntl(error, F_SETFL, fcntl(error, F_GETFL) | O_NONBLOCK)
        let exitWatch = intake_pidfd_open(pid)
        defer { if exitWatch >= 0 { close(exitWatch) } }
        let started = ContinuousClock.now
        let deadlineInstant = deadline.map { started + min($0, .seconds(366 * 86_400)) }  // no overflow, whatever it is given
        /// Once the child is killed or has exited, whatever still holds the pipes gets this long.
        var drainBy: ContinuousClock.Instant?
        var outcome = Outcome(
            ending: .exited(0), output: [], errorOutput: [], exceededOutputLimit: false, exceededDeadline: false,
            wasCancelled: false, peakMemoryBytes: 0, cpuTime: .zero)
        var open: (output: Bool, error: Bool) = (true, true)
        var exited = false
        var buffer = [UInt8](repeating: 0, count: 64 << 10)

        func killAll() {
            if leadsGroup { kill(-pid, SIGKILL) } else { kill(pid, SIGKILL) }
            drainBy = drainBy ?? ContinuousClock.now + .seconds(2)
        }

        // Until both pipes close and (where the kernel can tell us) the child has exited: a child that
        // closes its pipes and runs on is still held to its deadline.
        while open.output || open.error || (!exited && exitWatch >= 0) {
            var waitUntil = deadlineInstant
            if let drainBy { waitUntil = min(waitUntil ?? drainBy, drainBy) }
            let timeout: Int32 =
                waitUntil.map { until in
                    let remaining = until - ContinuousClock.now
                    return remaining <= .zero ? 0 : Int32(min(remaining / .milliseconds(1) + 1, 60_000))
                } ?? -1
            var fds = [
                pollfd(fd: open.output ? output : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: open.error ? error : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: exited ? -1 : exitWatch, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 && errno != EINTR { break }
            let now = ContinuousClock.now
            if let drainBy, now >= drainBy { break }
            if let deadlineInstant, now >= deadlineInstant, !outcome.exceededDeadline, !exited {
                outcome.exceededDeadline = true
                killAll()
            }
            if fds[2].revents != 0 {
                // The child exited: anything left in its group is stopped now, and has a moment to let go of the pipes.
                exited = true
                if leadsGroup { kill(-pid, SIGKILL) }
                drainBy = drainBy ?? now + .seconds(2)
            }
            if open.output && fds[0].revents != 0 {
                let count = read(output, &buffer, buffer.count)
                if count > 0 {
                    let room = outputLimit - outcome.output.count
                    outcome.output.append(contentsOf: buffer[0..<min(count, max(room, 0))])
                    if count > room && !outcome.exceededOutputLimit {
                        outcome.exceededOutputLimit = true
                        killAll()
                    }
                } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                    open.output = false
                }
            }
            if open.error && fds[1].revents != 0 {
                let count = read(error, &buffer, buffer.count)
                if count > 0 {
                    let room = errorLimit - outcome.errorOutput.count
                    if room > 0 { outcome.errorOutput.append(contentsOf: buffer[0..<min(count, room)]) }
                } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                    open.error = false
                }
            }
        }
        if control.isCancelled { outcome.wasCancelled = true }
        // Reap. If the pipes closed but the child lives on (it closed them itself), the deadline still holds.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        if leadsGroup { kill(-pid, SIGKILL) }  // nothing of the child's outlives it
        control.reaping()
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        outcome.ending = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
        outcome.peakMemoryBytes = Int(usage.ru_maxrss) * 1024
        outcome.cpuTime =
            .seconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + .microseconds(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
        return outcome
    }
}

/// Calls `body` with `strings` as a NULL-terminated array of C strings.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
