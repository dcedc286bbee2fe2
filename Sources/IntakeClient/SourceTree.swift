#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The files to ingest under some paths: folders are walked recursively, in name order.
///
/// Hidden entries (a name starting with `.`, which covers `.git`) are skipped, and so are
/// symbolic links unless `followSymlinks` is set; then each directory is entered once (by device
/// and inode), so a link loop ends. Only regular files are listed. Patterns are shell globs
/// (`fnmatch`): one without `/` is matched against the name, one with `/` against the path below
/// the given folder. A directory matching an exclude pattern is not entered.
public struct SourceTree: Sendable {
    /// Walk options.
    public struct Options: Sendable, Hashable {
        public var followSymlinks = false
        /// When non-empty, a file must match one of these.
        public var include: [String] = []
        /// A file or directory matching one of these is left out.
        public var exclude: [String] = []
        public init() {}
    }

    /// A path that could not be walked (it does not exist, cannot be read, …).
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    public let options: Options
    public private(set) var files: [SourceFile] = []
    public private(set) var problems: [Problem] = []
    private var visitedDirectories: Set<FileIdentity> = []
    private var listedFiles: Set<FileIdentity> = []

    /// Walks `paths` (files or folders) now.
    public init(paths: [String], options: Options = Options()) {
        self.options = options
        for path in paths {
            add(root: path)
        }
    }

    private mutating func add(root: String) {
        var info = stat()
        guard stat(root, &info) == 0 else {
            problems.append(Problem(path: root, message: Self.errorText(errno)))
            return
        }
        let trimmed = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        if Self.isDirectory(info) {
            walk(directory: trimmed, relative: "", info: info)
        } else if Self.isRegular(info) {
            addFile(trimmed, relative: Self.lastComponent(trimmed), info: info)
        } else {
            problems.append(Problem(path: root, message: "not a regular file or a directory"))
        }
    }

    private mutating func walk(directory: String, relative: String, info: stat) {
        guard visitedDirectories.insert(FileIdentity(info)).inserted else { return }
        guard let stream = opendir(directory) else {
            problems.append(Problem(path: directory, message: Self.errorText(errno)))
            return
        }
        var names: [String] = []
        while let entry = readdir(stream) {
            // Read the name in place: a record can be shorter than `dirent`, so copying the
            // whole `d_name` array out could read past the end of the directory buffer.
            let name = String(cString: (UnsafeRawPointer(entry) + Self.nameOffset).assumingMemoryBound(to: CChar.self))
            if name.hasPrefix(".") { continue }  // hidden, `.git`, `.` and `..`
            names.append(name)
        }
        closedir(stream)
        for name in names.sorted() {
            let path = directory == "/" ? "/" + name : directory + "/" + name
            let below = relative.isEmpty ? name : relative + "/" + name
            var entryInfo = stat()
            guard lstat(path, &entryInfo) == 0 else {
                problems.append(Problem(path: path, message: Self.errorText(errno)))
                continue
            }
            if Self.isSymbolicLink(entryInfo) {
                guard options.followSymlinks else { continue }
                guard stat(path, &entryInfo) == 0 else {
                    problems.append(Problem(path: path, message: "broken symbolic link"))
                    continue
                }
            }
            if Self.isDirectory(entryInfo) {
                if !matches(options.exclude, name: name, relative: below) {
                    walk(directory: path, relative: below, info: entryInfo)
                }
            } else if Self.isRegular(entryInfo) {
                addFile(path, relative: below, info: entryInfo)
            }
        }
    }

    private mutating func addFile(_ path: String, relative: String, info: stat) {
        let name = Self.lastComponent(path)
        if !options.include.isEmpty, !matches(options.include, name: name, relative: relative) { return }
        if matches(options.exclude, name: name, relative: relative) { return }
        // The same file reached twice (two given paths, or a followed link) is listed once.
        guard listedFiles.insert(FileIdentity(info)).inserted else { return }
        files.append(SourceFile(path: path, canonicalPath: Self.canonical(path), filename: name, size: Int64(info.st_size)))
    }

    private func matches(_ patterns: [String], name: String, relative: String) -> Bool {
        patterns.contains { pattern in
            fnmatch(pattern, pattern.contains("/") ? relative : name, 0) == 0
        }
    }

    private static func canonical(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!

    private static func isDirectory(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFDIR }
    private static func isRegular(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFREG }
    private static func isSymbolicLink(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFLNK }

    private static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// A file's device and inode: its identity whatever path reaches it.
private struct FileIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
