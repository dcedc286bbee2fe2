#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Bounds on extracting the text of one document in a child process (``IsolatedExtractor``).
/// A document that exceeds one fails with an error naming it; exceeding CPU, memory or an
/// archive's inflated size fails it for good (`dead`: retrying cannot help).
public struct ExtractionLimits: Sendable, Hashable, Codable {
    /// Wall-clock time for one document, from start to its last byte of text (default 120 s).
    /// The child and everything it started get SIGKILL then. A document stopped here is retried:
    /// a loaded machine, not the document, may be why.
    public var wallClock: Duration = .seconds(120)
    /// CPU seconds of the extraction process, and of each program it starts, `pdftotext` (default
    /// 60; `RLIMIT_CPU`).
    public var cpuSeconds: Int = 60
    /// Address space the extraction process may add to what it reserved at start, and that each
    /// program it starts may use (default 1 GiB; `RLIMIT_AS`).
    public var memoryBytes: Int = 1 << 30
    /// The most bytes one member of a ZIP-based document (DOCX, XLSX, PPTX, OpenDocument, EPUB)
    /// may inflate to (default 64 MiB).
    public var memberBytes: Int = 64 << 20
    /// The most bytes all members read from one archive may inflate to together (default 256 MiB).
    public var inflatedBytes: Int = 256 << 20
    /// How images and scanned PDF pages are read (not a bound: it travels with the bounds to the
    /// extraction process). Each OCR call has its own time limit; the programs inherit the CPU
    /// and memory bounds.
    public var ocr = OCRSettings()

    public init() {}

    /// The message of a document that ran out of CPU time.
    var cpuExceeded: String { "extraction used more than the CPU time limit of \(cpuSeconds) s" }
    /// The message of a document that ran out of memory.
    var memoryExceeded: String { "extraction exceeded the memory limit of \(Self.size(memoryBytes))" }
    /// The message of a document stopped at the wall-clock limit.
    var wallClockExceeded: String { "extraction took longer than the time limit of \(wallClock) and was stopped" }

    /// The bound a child killed by `signal` ran into, when its CPU time or memory says so: SIGXCPU
    /// or SIGKILL past the CPU limit is CPU; any other death with the peak memory near the limit,
    /// or an allocation failure on standard error, is memory. Both fail the document for good.
    func boundHit(by outcome: ChildProcess.Outcome, signal: Int32, process: String? = nil) -> ProcessingError? {
        if signal == SIGXCPU || (signal == SIGKILL && outcome.cpuTime >= .seconds(cpuSeconds)) {
            return ProcessingError(cpuExceeded, permanent: true)
        }
        let said = outcome.errorText.lowercased()
        if outcome.peakMemoryBytes >= memoryBytes / 2 || said.contains("alloc") || said.contains("out of memory") {
            return ProcessingError("\(memoryExceeded) (\(process.map { $0 + " " } ?? "")stopped by signal \(signal))", permanent: true)
        }
        return nil
    }

    /// `bytes` in the largest binary unit that divides it.
    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 30, bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}
