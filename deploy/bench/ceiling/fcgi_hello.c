/*
 * The FastCGI ceiling: the least any FastCGI app can do per request, pre-forked like perch.
 *
 *   fcgi_hello SOCKET_PATH [WORKERS]      (WORKERS defaults to the number of online cores)
 *
 * A parent binds the unix socket (backlog 511, as perch) and forks WORKERS children; it never serves.
 * Each child answers every request with perch's health response, byte for byte:
 *   Status: 200 OK / Content-Type: application/json; charset=utf-8 / Content-Length: 15 / {"status":"ok"}
 *
 * Keep-conn is handled as perch does (Sources/FastCGI/Worker.swift), because plain libfcgi pins a worker to
 * an idle nginx keep-conn connection while new connections wait in the backlog: the child accepts
 * connections itself (non-blocking listener, poll), hands each to libfcgi through ipcFd, keeps the
 * connection after a request when nginx asks for it, and lets it go when another connection is waiting or
 * after 2 s idle. What perch does on top of this (signals, scoreboard, timeouts, params dictionary, the
 * handler) is the overhead the benchmark measures.
 *
 * Children die with the parent (PR_SET_PDEATHSIG); TERM/INT on the parent stops them and removes the socket.
 */
#define _GNU_SOURCE  /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>

static const char response[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "Content-Length: 15\r\n"
    "\r\n"
    "{\"status\":\"ok\"}";

static volatile sig_atomic_t stopping = 0;
static void on_stop(int sig) { (void)sig; stopping = 1; }

static int bind_socket(const char *path) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof address.sun_path) { fprintf(stderr, "fcgi_hello: socket path too long\n"); exit(2); }
    strcpy(address.sun_path, path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 511) != 0) {
        perror("fcgi_hello: bind/listen");
        exit(1);
    }
    chmod(path, 0660);
    return fd;
}

static void child(int listen_fd) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1) _exit(0);
    signal(SIGPIPE, SIG_IGN);
    fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);  /* children race for connections */
    FCGX_Init();
    FCGX_Request request;
    FCGX_InitRequest(&request, -1, 0);  /* libfcgi never accepts itself: we pass each connection in */
    int kept = -1;
    while (!stopping) {
        struct pollfd fds[2] = {{.fd = listen_fd, .events = POLLIN}, {.fd = kept, .events = POLLIN}};
        int ready = poll(fds, kept >= 0 ? 2 : 1, kept >= 0 ? 2000 : 1000);
        int fd = -1;
        if (kept >= 0) {
            if (ready > 0 && fds[1].revents) {
                fd = kept;  /* the next request on the kept connection (or its close) */
            } else if (ready == 0 || fds[0].revents) {
                close(kept);  /* idle too long, or someone else waits */
            }
            kept = -1;
        }
        if (fd < 0) {
            if (ready <= 0 || !fds[0].revents) continue;
            fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0) continue;  /* another child won the race */
        }
        request.ipcFd = fd;
        request.keepConnection = 1;  /* FCGX_Accept_r first "finishes" the previous request: keep fd open */
        request.detached = 1;
        if (FCGX_Accept_r(&request) != 0) {  /* malformed input or the peer closed: libfcgi closed fd */
            request.ipcFd = -1;
            continue;
        }
        int keep = request.keepConnection;
        FCGX_PutStr(response, (int)sizeof response - 1, request.out);
        request.keepConnection = 1;
        request.detached = 1;
        FCGX_Finish_r(&request);
        fd = request.ipcFd;
        request.ipcFd = -1;
        if (fd >= 0) {
            if (keep) kept = fd; else close(fd);
        }
    }
    _exit(0);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: fcgi_hello SOCKET_PATH [WORKERS]\n"); return 2; }
    long workers = argc > 2 ? atol(argv[2]) : sysconf(_SC_NPROCESSORS_ONLN);
    if (workers < 1 || workers > 512) { fprintf(stderr, "fcgi_hello: WORKERS must be 1..512\n"); return 2; }
    int listen_fd = bind_socket(argv[1]);

    struct sigaction stop = {.sa_handler = on_stop};
    sigaction(SIGTERM, &stop, NULL);
    sigaction(SIGINT, &stop, NULL);
    pid_t *children = calloc((size_t)workers, sizeof *children);
    for (long i = 0; i < workers; i++) {
        children[i] = fork();
        if (children[i] == 0) child(listen_fd);
        if (children[i] < 0) { perror("fcgi_hello: fork"); stopping = 1; break; }
    }
    /* A ceiling, not a process manager: it does not respawn; the run fails loudly if a child dies. */
    while (!stopping) {
        int status;
        pid_t dead = waitpid(-1, &status, 0);
        if (dead > 0) { fprintf(stderr, "fcgi_hello: child %d exited (status %d)\n", (int)dead, status); break; }
        if (dead < 0 && errno != EINTR) break;
    }
    for (long i = 0; i < workers; i++) if (children[i] > 0) kill(children[i], SIGTERM);
    while (wait(NULL) > 0 || errno == EINTR) {}
    unlink(argv[1]);
    return 0;
}
