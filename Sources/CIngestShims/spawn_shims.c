#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif
#include "spawn_shims.h"

static int spawn_with_posix_spawn(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd,
                                  int stderr_fd, int new_process_group, pid_t *pid) {
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_t actions;
    int error = posix_spawnattr_init(&attributes);
    if (error != 0) return error;
    error = posix_spawn_file_actions_init(&actions);
    if (error != 0) {
        posix_spawnattr_destroy(&attributes);
        return error;
    }
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (new_process_group) flags |= POSIX_SPAWN_SETPGROUP;
    if (error == 0) error = posix_spawnattr_setflags(&attributes, flags);
    if (error == 0) error = posix_spawnattr_setsigmask(&attributes, &none);
    if (error == 0) error = posix_spawnattr_setsigdefault(&attributes, &all);
    if (error == 0 && new_process_group) error = posix_spawnattr_setpgroup(&attributes, 0);
    if (error == 0) {
        error = stdin_fd >= 0 ? posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO)
                              : posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    }
    if (error == 0) error = posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
    if (error == 0) error = posix_spawn_file_actions_adddup2(&actions, stderr_fd, STDERR_FILENO);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    if (error == 0) error = posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
#endif
    if (error == 0) error = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return error;
}

/// Between fork and exec: only async-signal-safe calls, no allocation.
static void become_child(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd,
                         int stderr_fd, int new_process_group, pid_t parent, int report_fd) {
    struct sigaction default_action;
    default_action.sa_handler = SIG_DFL;
    default_action.sa_flags = 0;
    sigemptyset(&default_action.sa_mask);
    for (int signal_number = 1; signal_number < NSIG; signal_number++) {
        if (signal_number != SIGKILL && signal_number != SIGSTOP) sigaction(signal_number, &default_action, NULL);
    }
#ifdef __linux__
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) goto failed;
#endif
    if (getppid() != parent) _exit(127);  // the parent died before the request took hold
    if (new_process_group && setpgid(0, 0) != 0) goto failed;
    int input_fd = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY);
    if (input_fd < 0 || dup2(input_fd, STDIN_FILENO) < 0) goto failed;
    if (dup2(stdout_fd, STDOUT_FILENO) < 0 || dup2(stderr_fd, STDERR_FILENO) < 0) goto failed;
#if defined(__linux__) && defined(SYS_close_range)
    // Every other descriptor closes at exec (the report pipe too, which tells the parent exec worked).
    if (syscall(SYS_close_range, STDERR_FILENO + 1, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) != 0)
#endif
    {
        for (int fd = STDERR_FILENO + 1; fd < 65536; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(path, argv, envp);
failed:;
    int error = errno;
    ssize_t written = write(report_fd, &error, sizeof error);
    (void)written;
    _exit(127);
}

static int spawn_with_fork(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd,
                           int stderr_fd, int new_process_group, pid_t *pid) {
    int report[2];
    if (intake_pipe_cloexec(report) != 0) return errno;
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);  // no handler of ours runs in the child
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) become_child(path, argv, envp, stdin_fd, stdout_fd, stderr_fd, new_process_group, parent, report[1]);
    int fork_error = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(report[1]);
    if (child < 0) {
        close(report[0]);
        return fork_error;
    }
    int child_error = 0;
    ssize_t count;
    do { count = read(report[0], &child_error, sizeof child_error); } while (count < 0 && errno == EINTR);
    close(report[0]);
    if (count == (ssize_t)sizeof child_error) {
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
        return child_error;
    }
    *pid = child;
    return 0;
}

int intake_spawn(const char *path, char *const argv[], char *const envp[], int stdout_fd, int stderr_fd,
                 int new_process_group, int die_with_parent, pid_t *pid) {
    return intake_spawn_with_input(path, argv, envp, -1, stdout_fd, stderr_fd, new_process_group, die_with_parent, pid);
}

int intake_spawn_with_input(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd,
                            int stderr_fd, int new_process_group, int die_with_parent, pid_t *pid) {
    if (die_with_parent) return spawn_with_fork(path, argv, envp, stdin_fd, stdout_fd, stderr_fd, new_process_group, pid);
    return spawn_with_posix_spawn(path, argv, envp, stdin_fd, stdout_fd, stderr_fd, new_process_group, pid);
}

int intake_pipe_cloexec(int fds[2]) {
#ifdef __linux__
    return pipe2(fds, O_CLOEXEC);
#else
    if (pipe(fds) != 0) return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
#endif
}

int intake_pidfd_open(pid_t pid) {
#if defined(__linux__) && defined(SYS_pidfd_open)
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}
