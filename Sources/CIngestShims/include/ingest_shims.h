#ifndef INTAKE_INGEST_SHIMS_H
#define INTAKE_INGEST_SHIMS_H

#include "spawn_shims.h"

/// Asks the kernel to start writing back `length` bytes of `fd` from `offset`, without waiting
/// (Linux `sync_file_range` with `SYNC_FILE_RANGE_WRITE`, which glibc hides behind _GNU_SOURCE).
/// Returns 0, or -1 with errno set; a no-op returning 0 elsewhere.
int intake_start_writeback(int fd, long long offset, long long length);

/// Renames `from` to `to` unless `to` exists (Linux `renameat2` with `RENAME_NOREPLACE`, macOS
/// `renamex_np` with `RENAME_EXCL`): one system call that says EEXIST when the name is taken and
/// ENOENT when a directory is missing. Returns 0, or -1 with errno set.
int intake_rename_noreplace(const char *from, const char *to);

#endif
