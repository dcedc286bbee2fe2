#ifndef INTAKE_INGEST_SHIMS_H
#define INTAKE_INGEST_SHIMS_H

/// Asks the kernel to start writing back `length` bytes of `fd` from `offset`, without waiting
/// (Linux `sync_file_range` with `SYNC_FILE_RANGE_WRITE`, which glibc hides behind _GNU_SOURCE).
/// Returns 0, or -1 with errno set; a no-op returning 0 elsewhere.
int intake_start_writeback(int fd, long long offset, long long length);

#endif
