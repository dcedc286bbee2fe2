#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a file (or standard input) in fixed-size pieces into one reused buffer, so memory stays
/// flat whatever the file's size.
struct ChunkedFileReader: ~Copyable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let buffer: UnsafeMutableRawBufferPointer

    /// Opens `path` for reading; `-` reads standard input.
    init(path: String, chunkSize: Int = 64 * 1024) throws(Failure) {
        if path == "-" {
            descriptor = STDIN_FILENO
            ownsDescriptor = false
        } else {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))")
            }
            ownsDescriptor = true
        }
        buffer = .allocate(byteCount: chunkSize, alignment: 64)
    }

    deinit {
        buffer.deallocate()
        if ownsDescriptor { close(descriptor) }
    }

    /// Calls `body` with each chunk in order until the end of the file.
    func forEachChunk<E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) -> Result<Void, Failure> {
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(Failure(description: "read failed: \(String(cString: strerror(errno)))"))
            }
            if count == 0 { return .success(()) }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }
}
