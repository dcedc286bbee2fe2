/// Which detected types a knowledge base accepts.
///
/// The detected type (libmagic's, from the bytes) decides; the declared type (the part's
/// Content-Type, from the client) is recorded beside it but trusted for nothing. Executables and
/// scripts are refused whatever the policy lists.
public struct TypePolicy: Sendable, Hashable {
    /// Exact MIME types accepted.
    public var acceptedTypes: Set<String>
    /// Type prefixes accepted, such as `image/` or `text/`.
    public var acceptedPrefixes: [String]

    public init(acceptedTypes: Set<String>, acceptedPrefixes: [String] = []) {
        self.acceptedTypes = acceptedTypes
        self.acceptedPrefixes = acceptedPrefixes
    }

    /// What a knowledge base is fed: PDF; plain text and its kin (Markdown, CSV, HTML, XML and
    /// the like: libmagic calls text with commas `text/csv`, so all `text/` types count as text);
    /// JSON and XML; Office Open XML and OpenDocument files; EPUB; common images. (RTF is
    /// `text/rtf` to libmagic: accepted as text, and read as text, not markup.)
    public static let knowledgeBase = TypePolicy(
        acceptedTypes: [
            "application/pdf",
            "application/json",
            "application/xml",
            "application/epub+zip",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.oasis.opendocument.text",
            "application/vnd.oasis.opendocument.spreadsheet",
            "application/vnd.oasis.opendocument.presentation",
            "image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff", "image/bmp",
        ],
        acceptedPrefixes: ["text/"]
    )

    /// Every type but executables and scripts (which no policy accepts).
    public static let anythingButExecutables = TypePolicy(acceptedTypes: [], acceptedPrefixes: [""])

    /// Types that are never accepted: executables, shared libraries and scripts.
    public static func isExecutable(_ mimeType: String) -> Bool {
        switch mimeType {
        case "application/x-executable", "application/x-pie-executable", "application/x-sharedlib",
            "application/x-dosexec", "application/x-msdownload", "application/vnd.microsoft.portable-executable",
            "application/x-mach-binary", "application/x-elf", "application/x-object", "application/x-coredump",
            "text/x-shellscript", "application/x-shellscript", "application/x-sh":
            return true
        default:
            return mimeType.hasPrefix("text/x-script.") || mimeType.hasPrefix("application/x-mach-")
        }
    }

    /// Whether data of `detected` type, starting with `prefix`, is accepted. Anything that starts
    /// with `#!` is a script, whatever libmagic calls it.
    public func accepts(_ detected: SniffedType, prefix: some Collection<UInt8>) -> Bool {
        if prefix.starts(with: [UInt8(ascii: "#"), UInt8(ascii: "!")]) { return false }
        if Self.isExecutable(detected.mimeType) { return false }
        return acceptedTypes.contains(detected.mimeType) || acceptedPrefixes.contains { detected.mimeType.hasPrefix($0) }
    }
}
