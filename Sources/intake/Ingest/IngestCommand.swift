import ArgumentParser
import AsyncHTTPClient
import Foundation
import Ingest
import IntakeClient
import IntakeRuntime
import IntakeServer
import Logging
import UnixSignals

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `intake ingest`: uploads folders of documents, each file as its own upload, so that a re-run
/// uploads only what is missing.
struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Upload files and folders into a knowledge base, skipping what is already there.",
        discussion: """
            Folders are walked recursively; hidden files and folders (.git among them) are skipped, \
            and so are symbolic links unless --follow-symlinks. Each file is hashed first: content \
            the server already has is skipped, and each upload carries an Idempotency-Key made \
            from the hash and the path, so a retry or a re-run never makes a duplicate. Network \
            errors, 409, 429 and 5xx are retried with backoff; other refusals (415 type, 413 size) \
            are reported per file. Ctrl-C cancels the uploads in flight and prints the summary; \
            run the same command again to resume. Files larger than --resumable-above go to a \
            server in pieces (tus, --piece-size each), and the URL of each such upload is kept \
            in --resume-dir: the next run goes on from the last piece the server acknowledged \
            instead of from the file's start.

            Exit status: 0 when every file was uploaded or skipped, 1 when some failed, 130 when \
            interrupted.
            """
    )

    @Argument(help: ArgumentHelp("Files and folders to upload.", valueName: "path"))
    var paths: [String]

    @OptionGroup(title: "Where to")
    var destination: TargetOptions

    @Option(help: "Files uploaded at once.")
    var concurrency = 4

    @Option(help: ArgumentHelp("Only files matching this glob (on the name, or on the path below the folder when it has a '/'); repeatable.", valueName: "glob"))
    var include: [String] = []

    @Option(help: ArgumentHelp("Leave out files and folders matching this glob; repeatable.", valueName: "glob"))
    var exclude: [String] = []

    @Option(help: ArgumentHelp("A text field sent with every file; repeatable.", valueName: "name=value"))
    var field: [String] = []

    @Option(help: "Attempts per file for errors worth retrying (network, 409, 429, 5xx).")
    var attempts = 8

    @Option(name: .customLong("resumable-above"), help: ArgumentHelp("Send files larger than this to a server in pieces that a later run resumes (tus); e.g. 64MiB.", valueName: "size"))
    var resumableAbove = ByteSize(bytes: 64 << 20)

    @Option(name: .customLong("piece-size"), help: ArgumentHelp("The size of each piece of a file sent in pieces.", valueName: "size"))
    var pieceSize = ByteSize(bytes: 16 << 20)

    @Option(
        name: .customLong("resume-dir"),
        help: ArgumentHelp("Where the upload URLs of files sent in pieces are kept between runs (default: $XDG_STATE_HOME/intake/uploads, else ~/.local/state/intake/uploads).", valueName: "path"))
    var resumeDirectory: String?

    @Option(name: .customLong("limit-rate"), help: ArgumentHelp("Send no more than this many bytes a second, all uploads together; e.g. 10MiB.", valueName: "size"))
    var limitRate: ByteSize?

    @Flag(name: .customLong("follow-symlinks"), help: "Follow symbolic links (each folder is still entered once).")
    var followSymlinks = false

    @Flag(name: .customLong("dry-run"), help: "Hash and look up every file; upload nothing.")
    var dryRun = false

    @Flag(help: "One JSON object per file on stdout, then a summary object.")
    var json = false

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1.") }
        guard attempts >= 1 else { throw ValidationError("--attempts must be at least 1.") }
        if let limitRate, limitRate.bytes < 1 { throw ValidationError("--limit-rate must be at least 1 byte a second.") }
        guard pieceSize.bytes >= 1 else { throw ValidationError("--piece-size must be at least 1 byte.") }
        _ = try parsedFields()
    }

    private func parsedFields() throws -> [(name: String, value: String)] {
        try field.map { pair in
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("--field takes NAME=VALUE, not '\(pair)'.")
            }
            return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
        }
    }

    func run() async throws {
        var options = SourceTree.Options()
        options.followSymlinks = followSymlinks
        options.include = include
        options.exclude = exclude
        let tree = SourceTree(paths: paths, options: options)

        let sent = ByteCounter()
        let style: ProgressDisplay.Style = json ? .json : (isatty(STDERR_FILENO) == 1 ? .live : .plain)
        let display = ProgressDisplay(style: style, sent: sent)
        let ingest = BulkIngest(concurrency: concurrency, fields: try parsedFields(), retry: RetryPolicy(maximumAttempts: attempts), dryRun: dryRun)

        let summary: IngestSummary
        switch try destination.target {
        case .dataDirectory(let dataDirectory):
            var configuration = NodeConfiguration()
            configuration.dataDirectory = dataDirectory
            configuration.workers = 0
            var logger = Logger(label: "intake")
            logger.logLevel = .warning
            configuration.logger = logger
            let store = try await destination.store.open(dataDirectory: dataDirectory)
            let node = try IntakeNode(configuration: configuration, openBlobs: destination.blobs.open) { _ in store }
            defer { Task { await node.blobs.shutdown() } }
            let target = LocalTarget(node: node, knowledgeBase: destination.knowledgeBase ?? KnowledgeBaseName.default.value)
            summary = await runInterruptibly(ingest, tree: tree, target: target, sent: sent, display: display)
        case .server(let url, let apiKey):
            let client = RemoteTarget.makeClient(connections: concurrency)
            let journal = try ResumableUploadJournal(directory: resumeDirectory ?? ResumableUploadJournal.defaultDirectory)
            let resumable = ResumableSending(threshold: resumableAbove.bytes, pieceSize: pieceSize.bytes, journal: journal)
            let target = RemoteTarget(
                server: url, apiKey: apiKey, knowledgeBase: destination.knowledgeBase, resumable: resumable,
                rateLimit: limitRate.map { RateLimit(bytesPerSecond: $0.bytes) }, client: client)
            summary = await runInterruptibly(ingest, tree: tree, target: target, sent: sent, display: display)
            try await client.shutdown()
        }
        if summary.interrupted { throw ExitCode(130) }
        if !summary.succeeded { throw ExitCode(1) }
    }

    /// Runs the ingest; the first SIGINT or SIGTERM cancels it (the summary is still printed),
    /// a second one exits at once.
    private func runInterruptibly(
        _ ingest: BulkIngest, tree: SourceTree, target: some UploadTarget, sent: ByteCounter, display: ProgressDisplay
    ) async -> IngestSummary {
        let files = tree.files
        let work = Task {
            await ingest.run(files, into: target, progress: sent) { event in await display.handle(event) }
        }
        let signals = Task {
            var count = 0
            for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
                count += 1
                if count == 1 { work.cancel() } else { Glibc.exit(130) }
            }
        }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                await display.refresh()
            }
        }
        var summary = await work.value
        ticker.cancel()
        signals.cancel()
        // Paths that could not be walked count as failed files.
        for problem in tree.problems {
            let report = FileReport(path: problem.path, status: .failed, bytes: 0, error: problem.message)
            await display.handle(.finished(report))
            summary.files += 1
            summary.record(report)
        }
        await display.finish(summary)
        return summary
    }
}
