import Foundation
public import KnowledgeBase

/// The `intake` executable that `swift build` (and `swift test`) put beside the test bundle, as
/// the helper that extracts documents in a child process.
public enum BuiltIntake {
    public static var path: String {
        let bundle = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        return bundle.deletingLastPathComponent().appendingPathComponent("intake").path
    }

    /// The extraction helper: `intake extract`. Fails the calling test, naming the path, when
    /// the executable was not built.
    public static var extractionHelper: ExtractionHelper {
        get throws {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw MissingExecutable(path: path)
            }
            return ExtractionHelper(executable: path)
        }
    }

    public struct MissingExecutable: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "\(path) is missing: build the package's executables first (swift build --build-tests)" }
    }
}

/// Whether poppler's pdftotext is on PATH (`.ci/run` installs it).
public let pdftotextIsInstalled = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    .contains { FileManager.default.isExecutableFile(atPath: "\($0)/pdftotext") }
