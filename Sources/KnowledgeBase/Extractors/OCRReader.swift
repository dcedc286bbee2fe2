import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How text is read from pictures of it — images, and PDF pages without a text layer (scans):
/// with Tesseract, in the languages named, each call held to a time limit (and, inside an
/// ``IsolatedExtractor``, to the extraction's CPU and memory bounds, which every program it
/// starts inherits).
public struct OCRSettings: Sendable, Hashable, Codable {
    /// Whether images and scanned pages are read at all.
    public var isEnabled = true
    /// Tesseract's languages, `+`-separated (`eng`, `eng+deu`); each needs its Debian package
    /// (`tesseract-ocr-eng`, `tesseract-ocr-deu`, …).
    public var languages = "eng"
    /// How long reading one image or one page may take; a page past it is skipped with a note.
    public var pageTimeout: Duration = .seconds(60)
    /// The resolution PDF pages are rendered at for reading, in dots per inch.
    public var resolution = 300

    public init(isEnabled: Bool = true, languages: String = "eng", pageTimeout: Duration = .seconds(60), resolution: Int = 300) {
        self.isEnabled = isEnabled
        self.languages = languages
        self.pageTimeout = pageTimeout
        self.resolution = resolution
    }

    /// Whether `languages` is one or more `+`-separated names of letters, digits and `_` (what
    /// Tesseract's data files are called): nothing else reaches its command line.
    public static func isValid(languages: String) -> Bool {
        let names = languages.split(separator: "+", omittingEmptySubsequences: false)
        func isNameByte(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "_") || (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        }
        return !names.isEmpty && names.count <= 8 && names.allSatisfy { (1...32).contains($0.utf8.count) && $0.utf8.allSatisfy(isNameByte) }
    }
}

/// Runs Tesseract (and, for PDF pages, `pdftoppm` from poppler-utils) as ``ChildProcess``es.
struct OCRReader: Sendable {
    var settings: OCRSettings
    /// The bounds the programs inherit, for the messages that name them; nil: none known.
    var limits: ExtractionLimits?
    /// The tesseract to run; nil: the first on PATH.
    var tesseractPath: String?

    /// The tesseract that will run, if there is one.
    var tesseract: String? {
        tesseractPath.map { FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil } ?? Self.tool("tesseract")
    }

    /// What one reading gave.
    enum Reading: Sendable, Hashable {
        case text(String)
        /// Stopped at ``OCRSettings/pageTimeout``.
        case timedOut
    }

    /// The text of the image at `path` (any format Tesseract's Leptonica reads: PNG, JPEG, TIFF, WebP, …).
    func readImage(at path: String, outputLimit: Int) async throws -> Reading {
        try await tesseract(input: .file(path), outputLimit: outputLimit)
    }

    /// The text of page `page` (from 1) of the PDF at `path`, rendered in grey at the set resolution.
    func readPage(_ page: Int, ofPDFAt path: String, outputLimit: Int) async throws -> Reading {
        guard let renderer = Self.tool("pdftoppm") else {
            throw ProcessingError("reading scanned PDF pages needs pdftoppm, which is not installed (Debian: apt-get install poppler-utils)")
        }
        let render = ChildProcess(
            executable: renderer,
            // Grey PGM: no compression to spend time on (PNG's costs more than the render itself).
            arguments: ["-r", "\(settings.resolution)", "-gray", "-singlefile", "-f", "\(page)", "-l", "\(page)", path],
            processGroup: Self.processGroup, deadline: settings.pageTimeout, outputLimit: Self.imageLimit)
        let rendered: ChildProcess.Outcome
        do {
            rendered = try await render.run()
        } catch let error as ChildProcess.LaunchError {
            throw ProcessingError("\(error)")
        }
        if rendered.exceededDeadline { return .timedOut }
        if rendered.exceededOutputLimit {
            throw ProcessingError("page \(page) renders to more than \(ExtractionLimits.size(Self.imageLimit)) of image; it was not read", permanent: true)
        }
        try check(rendered, program: "pdftoppm")
        return try await tesseract(input: .bytes(rendered.output), outputLimit: outputLimit, resolution: settings.resolution)
    }

    /// The most bytes of one rendered page (a 300 dpi grey PGM of a letter page is 8 MiB; A0 at
    /// 300 dpi would be 140 MiB, and is refused).
    static let imageLimit = 96 << 20

    private enum Input {
        case file(String)
        case bytes([UInt8])
    }

    /// `resolution`: the image's, when it does not say (a PGM); nil: Tesseract reads or estimates it.
    private func tesseract(input: Input, outputLimit: Int, resolution: Int? = nil) async throws -> Reading {
        guard let tesseract else {
            throw ProcessingError("reading text in images (OCR) needs tesseract, which is not installed (Debian: apt-get install tesseract-ocr tesseract-ocr-eng)")
        }
        guard OCRSettings.isValid(languages: settings.languages) else {
            throw ProcessingError("OCR languages must be names such as eng or eng+deu, not '\(settings.languages)'", permanent: true)
        }
        var environment = ProcessInfo.processInfo.environment
        environment["OMP_THREAD_LIMIT"] = "1"  // one thread: two workers keep two cores busy, no more
        let source: String
        var process = ChildProcess(
            executable: tesseract, arguments: [], environment: environment, processGroup: Self.processGroup, deadline: settings.pageTimeout,
            outputLimit: outputLimit)
        switch input {
        case .file(let path):
            source = path
        case .bytes(let bytes):
            source = "stdin"
            process.input = bytes
        }
        process.arguments = [source, "stdout", "-l", settings.languages, "--psm", "3"] + (resolution.map { ["--dpi", "\($0)"] } ?? [])
        let outcome: ChildProcess.Outcome
        do {
            outcome = try await process.run()
        } catch let error as ChildProcess.LaunchError {
            throw ProcessingError("\(error)")
        }
        if outcome.exceededDeadline { return .timedOut }
        if !outcome.exceededOutputLimit {
            let said = outcome.errorText
            if let range = said.range(of: "Failed loading language '"), let end = said[range.upperBound...].firstIndex(of: "'") {
                let language = said[range.upperBound..<end]
                throw ProcessingError("the OCR language '\(language)' is not installed (Debian: apt-get install tesseract-ocr-\(language))")
            }
            try check(outcome, program: "tesseract")
        }
        return .text(String(decoding: outcome.output, as: UTF8.self))
    }

    /// Throws unless `outcome` is a clean exit.
    private func check(_ outcome: ChildProcess.Outcome, program: String) throws {
        switch outcome.ending {
        case .exited(0):
            return
        case .signalled(let signal):
            if let bound = limits?.boundHit(by: outcome, signal: signal, process: program) { throw bound }
            if signal == SIGXCPU { throw ProcessingError("\(program) used more than its CPU time limit", permanent: true) }
            throw ProcessingError("\(program) was stopped by signal \(signal)\(Self.detail(outcome))")
        case .exited(let status):
            throw ProcessingError("\(program) exited with status \(status)\(Self.detail(outcome))")
        }
    }

    private static func detail(_ outcome: ChildProcess.Outcome) -> String {
        let message = String(outcome.errorText.prefix(300))
        return message.isEmpty ? "" : ": " + message
    }

    /// Inside an isolated extraction the child leads a process group: the programs stay in it, so
    /// that killing the group kills them too; elsewhere each gets a group of its own.
    private static var processGroup: ChildProcess.ProcessGroup { getpgrp() == getpid() ? .inherit : .new }

    /// `name` on PATH, if there.
    static func tool(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
