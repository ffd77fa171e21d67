// Starts a program in a sandbox of its own: for the built-in worker, a child of the server that
// must not see the server's processes, files or privileges. Swift cannot run code between fork
// and exec, which is where namespaces are entered and users switched; this is that code.
#ifndef BERTH_CBERTH_SANDBOX_H
#define BERTH_CBERTH_SANDBOX_H

#include <sys/types.h>

/// What to start and how.
typedef struct {
    /// An open descriptor of the program's executable (opened by the caller while it may still
    /// read it: the sandboxed user may not be able to reach its path).
    int executable_fd;
    /// NULL-terminated arguments and environment, as for execve.
    char *const *argv;
    char *const *envp;
    /// The program's standard input, output and error.
    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
    /// The folder the program starts in.
    const char *working_directory;
    /// 1: a new user, PID and mount namespace, with `uid_map` and `gid_map` (the contents of
    /// /proc/PID/uid_map and gid_map, written by this process) and /proc mounted afresh; the
    /// program then runs as `inner_uid`/`inner_gid` inside. 0: none of that (the program runs as
    /// the caller's user).
    int new_namespaces;
    const char *uid_map;
    const char *gid_map;
    unsigned int inner_uid;
    unsigned int inner_gid;
} berth_sandbox_spec;

/// What went wrong when the sandbox could not be started.
typedef struct {
    /// The step that failed ("clone", "uid_map", "mount /proc", "execve", …) and its errno.
    char step[64];
    int error_number;
} berth_sandbox_failure;

/// Starts the program. PID 1 of the sandbox is `berth-sandbox-init` (this executable again, see
/// CBerthSandbox.c), which starts the program, reaps orphans, passes SIGTERM and SIGINT on, exits
/// with the program's status, and kills the program (and with it the whole namespace) when
/// `*lifeline_fd` is closed — by the caller, or by the kernel when the caller dies.
/// Returns the init's pid and sets `*lifeline_fd`, or returns -1 and fills `failure`.
pid_t berth_sandbox_spawn(const berth_sandbox_spec *spec, int *lifeline_fd, berth_sandbox_failure *failure);

/// pipe2(fds, O_CLOEXEC), which Swift's Glibc module does not export: a pipe that no program
/// started meanwhile by another thread inherits. Returns 0, or -1 with errno.
int berth_cloexec_pipe(int fds[2]);

/// Makes this process undumpable: other processes of its user can then neither trace it nor read
/// its memory or environment through /proc (a script running as the same user, for one).
/// Returns 0, or -1 with errno.
int berth_make_undumpable(void);

#endif
