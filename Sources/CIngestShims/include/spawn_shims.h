#ifndef INTAKE_SPAWN_SHIMS_H
#define INTAKE_SPAWN_SHIMS_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` as a child that inherits nothing it should not: every
/// signal unblocked and at its default disposition (a thread of a Swift concurrency pool blocks
/// nearly all of them, and a child inherits that mask), standard input `/dev/null`, standard
/// output and error on `stdout_fd` and `stderr_fd`, every other descriptor closed; when
/// `new_process_group` is non-zero, a process group of its own whose id is its pid (so that it and
/// everything it starts can be killed together); and when `die_with_parent` is non-zero, SIGKILL
/// as soon as the calling thread ends (Linux `PR_SET_PDEATHSIG`: a supervisor killed with SIGKILL
/// takes its children with it). Returns 0 and sets `*pid`, or an errno value (the child's own, if
/// it could not run `path`).
int intake_spawn(const char *path, char *const argv[], char *const envp[], int stdout_fd, int stderr_fd,
                 int new_process_group, int die_with_parent, pid_t *pid);

/// ``intake_spawn`` with standard input on `stdin_fd` (when it is 0 or more) instead of `/dev/null`.
int intake_spawn_with_input(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd,
                            int stderr_fd, int new_process_group, int die_with_parent, pid_t *pid);

/// `pipe2(fds, O_CLOEXEC)`: a pipe whose ends no other child inherits. Returns 0, or -1 with errno set.
int intake_pipe_cloexec(int fds[2]);

/// A descriptor that becomes readable when process `pid` exits (Linux `pidfd_open`), or -1 with
/// errno set (ENOSYS before Linux 5.3 and elsewhere).
int intake_pidfd_open(pid_t pid);

#endif
