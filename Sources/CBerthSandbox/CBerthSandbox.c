// The sandbox of the built-in worker: see include/CBerthSandbox.h.
//
// Two halves. In the server, `berth_sandbox_spawn` clones a child into new namespaces; between
// that clone and its execve only system calls are made, never a C library function that takes a
// lock or keeps per-thread state: the server is multi-threaded, and its other threads (and the
// locks they held) do not exist in the child. The user switch uses the raw system calls for the
// same reason (glibc's setresuid signals every thread it believes exists). The child then becomes
// `berth-sandbox-init` — this same executable, caught by a constructor before Swift's main — so
// that PID 1 of the sandbox is a fresh image with nothing of the server's memory, environment or
// command line: it starts the program, reaps orphans, passes SIGTERM and SIGINT on, and kills
// everything when the server's lifeline breaks.
#define _GNU_SOURCE
#include "CBerthSandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/// The init's name (its argv[0]) and the descriptors it starts with, besides 0, 1 and 2.
static const char init_name[] = "berth-sandbox-init";
enum { INIT_LIFELINE_FD = 3, INIT_ERROR_FD = 4, INIT_EXECUTABLE_FD = 5, INIT_FIRST_FREE_FD = 6 };

typedef struct {
    const berth_sandbox_spec *spec;
    char *const *init_argv;
    int sync_read;     // the parent writes one byte once the id maps are written
    int error_write;   // a failure is written here; closed when the program's execve succeeds
    int lifeline_read; // end of file when the parent closes its end or dies
} child_args;

static void report(int error_write, const char *step) {
    berth_sandbox_failure failure;
    memset(&failure, 0, sizeof failure);
    size_t length = strlen(step);
    if (length >= sizeof failure.step) length = sizeof failure.step - 1;
    memcpy(failure.step, step, length);
    failure.error_number = errno;
    ssize_t written = write(error_write, &failure, sizeof failure);
    (void)written;
    _exit(127);
}

/// Marks every descriptor from `first` up close-on-exec.
static void close_on_exec_from(unsigned int first) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
#endif
    for (int fd = (int)first; fd < 65536; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void reset_signals(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    for (int signal_number = 1; signal_number < NSIG; signal_number++) {
        if (signal_number == SIGKILL || signal_number == SIGSTOP) continue;
        sigaction(signal_number, &action, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

// MARK: - The server's half

/// The cloned child: into the namespaces, the user switched, the descriptors in their places,
/// then `berth-sandbox-init`.
static int enter_sandbox(void *argument) {
    child_args *args = argument;
    const berth_sandbox_spec *spec = args->spec;
    // The server's handlers are not this process's: default dispositions, nothing blocked.
    reset_signals();
    // A session of its own: a terminal's Ctrl-C reaches the server, which stops the program itself.
    if (setsid() < 0) report(args->error_write, "setsid");
    char byte;
    if (read(args->sync_read, &byte, 1) != 1) report(args->error_write, "wait for the id maps");
    if (spec->new_namespaces) {
        // This namespace's mounts stay its own; /proc shows its processes only.
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) report(args->error_write, "make mounts private");
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
            report(args->error_write, "mount /proc");
        }
        if (syscall(SYS_setgroups, 0, NULL) != 0) report(args->error_write, "setgroups");
        if (syscall(SYS_setresgid, spec->inner_gid, spec->inner_gid, spec->inner_gid) != 0) {
            report(args->error_write, "setresgid");
        }
        if (syscall(SYS_setresuid, spec->inner_uid, spec->inner_uid, spec->inner_uid) != 0) {
            report(args->error_write, "setresuid");
        }
    }
    // Every descriptor first above the ones the init expects, then into place: none overwrites
    // another on the way.
    int sources[INIT_FIRST_FREE_FD] = {
        spec->stdin_fd, spec->stdout_fd, spec->stderr_fd, args->lifeline_read, args->error_write, spec->executable_fd};
    int moved[INIT_FIRST_FREE_FD];
    for (int index = 0; index < INIT_FIRST_FREE_FD; index++) {
        moved[index] = fcntl(sources[index], F_DUPFD_CLOEXEC, 100);
        if (moved[index] < 0) report(args->error_write, "move descriptors");
    }
    for (int index = 0; index < INIT_FIRST_FREE_FD; index++) {
        if (dup2(moved[index], index) < 0) report(moved[INIT_ERROR_FD], "move descriptors");
    }
    close_on_exec_from(INIT_FIRST_FREE_FD);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) report(INIT_ERROR_FD, "no_new_privs");
    if (chdir(spec->working_directory) != 0) report(INIT_ERROR_FD, "chdir");
    syscall(SYS_execveat, INIT_EXECUTABLE_FD, "", args->init_argv, spec->envp, AT_EMPTY_PATH);
    report(INIT_ERROR_FD, "execve berth-sandbox-init");
    return 127;
}

static void describe(berth_sandbox_failure *failure, const char *step) {
    int error_number = errno;
    memset(failure, 0, sizeof *failure);
    snprintf(failure->step, sizeof failure->step, "%s", step);
    failure->error_number = error_number;
}

static int write_file(const char *path, const char *contents) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t length = strlen(contents);
    ssize_t written = write(fd, contents, length);
    int error_number = errno;
    close(fd);
    if (written != (ssize_t)length) {
        errno = written < 0 ? error_number : EIO;
        return -1;
    }
    return 0;
}

static void close_pair(int pair[2]) {
    if (pair[0] >= 0) close(pair[0]);
    if (pair[1] >= 0) close(pair[1]);
}

pid_t berth_sandbox_spawn(const berth_sandbox_spec *spec, int *lifeline_fd, berth_sandbox_failure *failure) {
    int sync_pipe[2] = {-1, -1}, error_pipe[2] = {-1, -1}, lifeline_pipe[2] = {-1, -1};
    if (pipe2(sync_pipe, O_CLOEXEC) != 0 || pipe2(error_pipe, O_CLOEXEC) != 0 || pipe2(lifeline_pipe, O_CLOEXEC) != 0) {
        describe(failure, "pipe");
        close_pair(sync_pipe);
        close_pair(error_pipe);
        close_pair(lifeline_pipe);
        return -1;
    }
    // berth-sandbox-init's arguments, made here: the child may not allocate.
    size_t program_arguments = 0;
    while (spec->argv[program_arguments] != NULL) program_arguments++;
    char **init_argv = calloc(program_arguments + 3, sizeof(char *));
    const size_t stack_size = 256 * 1024;
    char *stack = malloc(stack_size);
    pid_t pid = -1;
    if (init_argv == NULL || stack == NULL) {
        describe(failure, "allocate");
    } else {
        init_argv[0] = (char *)init_name;
        init_argv[1] = "--";
        for (size_t index = 0; index < program_arguments; index++) init_argv[index + 2] = spec->argv[index];
        child_args args = {
            .spec = spec,
            .init_argv = init_argv,
            .sync_read = sync_pipe[0],
            .error_write = error_pipe[1],
            .lifeline_read = lifeline_pipe[0]};
        int flags = SIGCHLD;
        if (spec->new_namespaces) flags |= CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS;
        pid = clone(enter_sandbox, stack + stack_size, flags, &args);
        if (pid < 0) describe(failure, "clone");
    }
    // The child has its own copy of the memory and of the descriptors.
    free(stack);
    free(init_argv);
    close(sync_pipe[0]);
    close(error_pipe[1]);
    close(lifeline_pipe[0]);
    if (pid < 0) {
        close(sync_pipe[1]);
        close(error_pipe[0]);
        close(lifeline_pipe[1]);
        return -1;
    }
    int failed = 0;
    if (spec->new_namespaces) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
        if (write_file(path, spec->uid_map) != 0) {
            describe(failure, "write uid_map");
            failed = 1;
        } else {
            snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
            if (write_file(path, spec->gid_map) != 0) {
                describe(failure, "write gid_map");
                failed = 1;
            }
        }
    }
    if (!failed) {
        char go = 1;
        if (write(sync_pipe[1], &go, 1) != 1) {
            describe(failure, "start the sandbox");
            failed = 1;
        }
    }
    close(sync_pipe[1]);
    if (!failed) {
        // End of file: the program's execve closed the last copy of the error pipe.
        berth_sandbox_failure reported;
        ssize_t got;
        do {
            got = read(error_pipe[0], &reported, sizeof reported);
        } while (got < 0 && errno == EINTR);
        if (got == (ssize_t)sizeof reported) {
            *failure = reported;
            failure->step[sizeof failure->step - 1] = 0;
            failed = 1;
        }
    }
    close(error_pipe[0]);
    if (failed) {
        close(lifeline_pipe[1]);
        kill(pid, SIGKILL);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return -1;
    }
    *lifeline_fd = lifeline_pipe[1];
    return pid;
}

int berth_make_undumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }

int berth_cloexec_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

// MARK: - berth-sandbox-init, PID 1 of the sandbox

static volatile pid_t supervised_program = 0;

static void forward_signal(int signal_number) {
    pid_t program = supervised_program;
    if (program > 0) kill(program, signal_number);
}

static void wake_up(int signal_number) { (void)signal_number; }

/// Runs before Swift's main when this executable is started as `berth-sandbox-init -- PROGRAM…`
/// (by `enter_sandbox` only, with the descriptors it sets up), and never returns then.
__attribute__((constructor)) static void berth_sandbox_init(int argc, char **argv, char **envp) {
    if (argc < 3 || strcmp(argv[0], init_name) != 0 || strcmp(argv[1], "--") != 0) return;
    fcntl(INIT_ERROR_FD, F_SETFD, FD_CLOEXEC);
    fcntl(INIT_EXECUTABLE_FD, F_SETFD, FD_CLOEXEC);
    fcntl(INIT_LIFELINE_FD, F_SETFD, FD_CLOEXEC);
    if (getpid() != 1) {
        // Not PID 1 (no namespaces): orphans of the program come here instead of the machine's init.
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    pid_t program = fork();
    if (program < 0) report(INIT_ERROR_FD, "fork");
    if (program == 0) {
        if (setsid() < 0) report(INIT_ERROR_FD, "setsid");
        syscall(SYS_execveat, INIT_EXECUTABLE_FD, "", argv + 2, envp, AT_EMPTY_PATH);
        report(INIT_ERROR_FD, "execve");
    }
    supervised_program = program;
    close(INIT_ERROR_FD);
    close(INIT_EXECUTABLE_FD);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = forward_signal;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    action.sa_handler = wake_up; // no SA_RESTART: a child's end interrupts the poll below
    sigaction(SIGCHLD, &action, NULL);
    for (;;) {
        struct pollfd watch = {.fd = INIT_LIFELINE_FD, .events = POLLIN};
        int ready = poll(&watch, 1, 1000);
        if (ready > 0 && (watch.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) {
            // The server closed its end or died: nothing here may outlive it. As PID 1, this
            // process's end kills every other process of the namespace.
            kill(getpid() == 1 ? program : -program, SIGKILL);
            _exit(137);
        }
        int status;
        pid_t ended;
        while ((ended = waitpid(-1, &status, WNOHANG)) > 0) {
            if (ended == program) _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
    }
}
