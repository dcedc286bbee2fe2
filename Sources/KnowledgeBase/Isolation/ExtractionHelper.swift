import Foundation

/// The program that extracts one document in a child process: an executable and the arguments
/// that come before the request (for `intake`, its hidden `extract` subcommand). The child reads
/// the request from its last argument and answers through ``ExtractionChild``.
public struct ExtractionHelper: Sendable, Hashable {
    public var executable: String
    public var arguments: [String]

    public init(executable: String, arguments: [String] = ["extract"]) {
        self.executable = executable
        self.arguments = arguments
    }

    /// This very program run with `arguments` (`/proc/self/exe`, resolved once, so that a binary
    /// replaced on disk while the server runs is not picked up half-way).
    public static func currentExecutable(arguments: [String] = ["extract"]) -> ExtractionHelper {
        let path =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        return ExtractionHelper(executable: path, arguments: arguments)
    }
}

/// What the parent asks the child to extract: the document's blob and type, how much text to
/// return, and the bounds the child applies to itself before it reads a byte of the document.
struct ExtractionRequest: Codable, Sendable {
    var path: String
    var detectedType: String
    var charset: String?
    var size: Int
    var sha256: String
    var maximumTextBytes: Int
    var limits: ExtractionLimits
}

/// The first line of the child's standard output, before the text itself.
struct ExtractionHeader: Codable, Sendable {
    var note: String?
    var isTruncated: Bool
    var pages: [TextPage] = []
}

/// How the child's exit status says how extraction ended.
enum ExtractionExit {
    static let success: Int32 = 0
    /// A processing error worth retrying; its message is the last line of standard error.
    static let failed: Int32 = 65
    /// A processing error that retrying cannot help (a bound was exceeded).
    static let failedPermanently: Int32 = 66
    /// The request could not be read.
    static let badRequest: Int32 = 64
}
