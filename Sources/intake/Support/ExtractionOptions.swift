import ArgumentParser
import KnowledgeBase

/// The bounds on extracting one document's text, as flags of `intake serve` and `intake worker`.
/// Each document is extracted by `intake extract` in a child process held to them.
struct ExtractionOptions: ParsableArguments {
    @Option(name: .customLong("extract-timeout"), help: ArgumentHelp("Wall-clock seconds one document's extraction may take; then it is killed and retried.", valueName: "seconds"))
    var timeout = EnvironmentDefaults.int("INTAKE_EXTRACT_TIMEOUT", 120)

    @Option(name: .customLong("extract-cpu"), help: ArgumentHelp("CPU seconds one document's extraction may use; past it the document is dead.", valueName: "seconds"))
    var cpuSeconds = EnvironmentDefaults.int("INTAKE_EXTRACT_CPU", 60)

    @Option(name: .customLong("extract-memory"), help: ArgumentHelp("Address space of the extraction process, in MiB; past it the document is dead.", valueName: "MiB"))
    var memoryMiB = EnvironmentDefaults.int("INTAKE_EXTRACT_MEMORY", 1024)

    @Option(name: .customLong("extract-inflated"), help: ArgumentHelp("MiB all members of one archive (DOCX, XLSX, EPUB, …) may inflate to together.", valueName: "MiB"))
    var inflatedMiB = EnvironmentDefaults.int("INTAKE_EXTRACT_INFLATED", 256)

    func validate() throws {
        guard timeout >= 1 else { throw ValidationError("--extract-timeout must be at least 1 second.") }
        guard cpuSeconds >= 1 else { throw ValidationError("--extract-cpu must be at least 1 second.") }
        guard memoryMiB >= 256 else { throw ValidationError("--extract-memory must be at least 256 MiB.") }
        guard inflatedMiB >= 1 else { throw ValidationError("--extract-inflated must be at least 1 MiB.") }
    }

    var limits: ExtractionLimits {
        var limits = ExtractionLimits()
        limits.wallClock = .seconds(timeout)
        limits.cpuSeconds = cpuSeconds
        limits.memoryBytes = memoryMiB << 20
        limits.inflatedBytes = inflatedMiB << 20
        limits.memberBytes = min(limits.memberBytes, limits.inflatedBytes)
        return limits
    }
}
