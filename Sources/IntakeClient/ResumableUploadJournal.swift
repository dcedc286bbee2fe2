import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where `intake ingest` remembers the upload URL of each file it sends in pieces (tus), so that
/// the next run resumes an interrupted file from the server's offset instead of from its start:
/// one small file per upload, named by the SHA-256 of the server, the knowledge base, the file's
/// canonical path and its content hash (never by a path of its own), holding the URL.
public struct ResumableUploadJournal: Sendable {
    public let directory: String

    /// The journal in `directory`, created (0700) if missing.
    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// `$XDG_STATE_HOME/intake/uploads`, or `~/.local/state/intake/uploads`.
    public static var defaultDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/intake/uploads" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/intake/uploads"
    }

    /// The entry of one file's upload to one server.
    public struct Key: Sendable, Hashable {
        let name: String

        public init(server: String, knowledgeBase: String?, canonicalPath: String, sha256: String) {
            name = FileDigest.sha256(of: [server, knowledgeBase ?? "", canonicalPath, sha256].joined(separator: "\n"))
        }
    }

    /// The upload URL remembered for `key`, if any.
    public func location(for key: Key) -> String? {
        guard let data = FileManager.default.contents(atPath: path(key)), let text = String(data: data, encoding: .utf8) else { return nil }
        let location = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return location.isEmpty ? nil : location
    }

    /// Remembers `location` for `key` (written whole, then renamed into place).
    public func remember(_ location: String, for key: Key) throws {
        let temporary = path(key) + ".tmp"
        try Data((location + "\n").utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path(key)) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path(key)])
        }
    }

    /// Forgets `key` (its upload completed, or the server no longer has it).
    public func forget(_ key: Key) {
        unlink(path(key))
    }

    private func path(_ key: Key) -> String {
        directory + "/" + key.name
    }
}
