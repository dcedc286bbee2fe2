#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failure of the blob store's disk operations.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The disk (or the user's quota) is full.
        case diskFull
        /// A file part is larger than the file-size limit.
        case fileTooLarge
        /// Any other I/O failure.
        case io
        /// The blob store cannot be reached or did not answer in time (after its retries):
        /// worth trying again later.
        case unavailable
        /// The blob store refused the bytes: their checksum did not match, or it denied the
        /// request.
        case rejected
    }

    public var code: Code
    /// The operation and what it worked on, e.g. `fsync tmp/3f….part`.
    public var operation: String
    /// `errno` for a failed system call.
    public var errno: Int32?
    public var message: String

    public init(_ code: Code, operation: String, errno: Int32? = nil, message: String) {
        self.code = code
        self.operation = operation
        self.errno = errno
        self.message = message
    }

    /// The error for a failed system call, read from `errno`.
    public static func systemCall(_ operation: String, errno code: Int32 = currentErrno()) -> StorageError {
        let reason = String(cString: strerror(code))
        let isFull = code == ENOSPC || code == EDQUOT
        return StorageError(isFull ? .diskFull : .io, operation: operation, errno: code, message: "\(operation) failed: \(reason)")
    }

    public var description: String { message }
}

/// The calling thread's `errno`.
@usableFromInline func currentErrno() -> Int32 { errno }
