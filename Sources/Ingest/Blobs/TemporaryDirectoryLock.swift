#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A `flock` on the `tmp/` directory, held as long as a ``BlobStore`` may write there, so that
/// several processes can share one data directory (`intake serve` and `intake ingest --data-dir`,
/// say) without one sweeping away the other's uploads in flight.
///
/// Every store holds it shared; only a store that gets it exclusively at start-up — no other
/// process is using the directory — sweeps `tmp/` before taking it shared.
final class TemporaryDirectoryLock: Sendable {
    private let descriptor: Int32

    /// Opens `directory` and locks it shared; runs `sweep` first when no one else holds it.
    init(directory: String, sweep: () throws(StorageError) -> Void) throws(StorageError) {
        descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StorageError.systemCall("open directory \(directory)") }
        do throws(StorageError) {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
                try sweep()
            } else if errno != EWOULDBLOCK {
                throw StorageError.systemCall("lock directory \(directory)")
            }
            // Converting a lock is not atomic: another store starting now may get the
            // exclusive lock in between and sweep, which is harmless: this one wrote nothing yet.
            while flock(descriptor, LOCK_SH) != 0 {
                guard errno == EINTR else { throw StorageError.systemCall("lock directory \(directory)") }
            }
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit {
        close(descriptor)  // releases the lock
    }
}
