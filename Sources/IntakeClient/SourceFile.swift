/// A regular file found under one of the paths given to ``SourceTree``.
public struct SourceFile: Sendable, Hashable {
    /// The path as reached from the given path (for messages and reports).
    public var path: String
    /// The absolute path with symbolic links resolved: the same file always has the same one,
    /// whatever the working directory or the path it was reached by.
    public var canonicalPath: String
    /// The last component of `path`: the filename the server is told.
    public var filename: String
    /// The size when the tree was walked.
    public var size: Int64

    public init(path: String, canonicalPath: String, filename: String, size: Int64) {
        self.path = path
        self.canonicalPath = canonicalPath
        self.filename = filename
        self.size = size
    }
}
