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

    @Option(name: .customLong("ocr"), help: ArgumentHelp("Read text in images and in PDF pages without a text layer with Tesseract: on or off.", valueName: "on|off"))
    var ocr = EnvironmentDefaults.optionalString("INTAKE_OCR") ?? "on"

    @Option(name: .customLong("ocr-languages"), help: ArgumentHelp("Tesseract's languages, e.g. eng+deu (each needs its package: tesseract-ocr-deu).", valueName: "languages"))
    var ocrLanguages = EnvironmentDefaults.optionalString("INTAKE_OCR_LANGUAGES") ?? "eng"

    @Option(name: .customLong("ocr-page-timeout"), help: ArgumentHelp("Seconds reading one image or PDF page may take; a page past it is skipped with a note.", valueName: "seconds"))
    var ocrPageTimeout = EnvironmentDefaults.int("INTAKE_OCR_PAGE_TIMEOUT", 60)

    func validate() throws {
        guard ocr == "on" || ocr == "off" else { throw ValidationError("--ocr takes on or off, not '\(ocr)'.") }
        guard OCRSettings.isValid(languages: ocrLanguages) else { throw ValidationError("--ocr-languages takes names such as eng or eng+deu, not '\(ocrLanguages)'.") }
        guard ocrPageTimeout >= 1 else { throw ValidationError("--ocr-page-timeout must be at least 1 second.") }
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
        limits.ocr = OCRSettings(isEnabled: ocr == "on", languages: ocrLanguages, pageTimeout: .seconds(ocrPageTimeout))
        return limits
    }
}
