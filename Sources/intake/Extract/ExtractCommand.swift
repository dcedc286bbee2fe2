import ArgumentParser
import KnowledgeBase

#if canImport(Glibc)
    import Glibc
#endif

/// `intake extract`: the child side of isolated text extraction, started by `serve` and `worker`
/// for one document at a time (hidden: not for people).
struct ExtractCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Extract the text of one document under bounds (run by intake serve and intake worker).",
        shouldDisplay: false
    )

    @Argument(help: "The extraction request, as JSON.")
    var request: String

    func run() async throws {
        let status = await ExtractionChild.run(request: request)
        if status != 0 { throw ExitCode(status) }
    }
}
