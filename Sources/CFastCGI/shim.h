#include <fcgiapp.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/epoll.h>  // an idle worker's exclusive wait (Sources/FastCGI/ExclusiveWait.swift)

// glibc declares ppoll only under _GNU_SOURCE, which Swift's Glibc module is not built with.
// ppoll lets a process keep its signals blocked everywhere but while it waits: no EINTR mid-request.
int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *sigmask);

// prctl is variadic, which Swift cannot call: a worker asks to be TERMed when its master dies.
static inline int perch_die_with_parent(int signal) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0); }

// accept4 is _GNU_SOURCE too: close-on-exec in the same call as the accept, one system call per connection.
#include <sys/socket.h>
int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);

// The scoreboard's layout, shared by the master and its workers through one MAP_SHARED mapping. Each slot
// has exactly one writer (its worker; the master only when it assigns or releases the slot), so plain
// loads and stores suffice. Texts are stored with their length, which is written last.
#include <stdint.h>

struct perch_scoreboard_header {
    int64_t started_unix;
    uint64_t replacements[8];     // workers replaced, by reason (Scoreboard.Replacement); the master writes them
};

struct perch_slot {
    int32_t pid;
    int32_t state;
    uint64_t requests;            // served by the current worker process
    uint64_t accepted;            // since the pool started: connections taken up
    uint64_t slow_requests;
    uint64_t all_busy;            // times a request started while every worker was busy
    uint64_t max_active;
    int64_t request_start;        // monotonic ns of the current request; 0 when idle
    int64_t started_unix;
    int64_t last_duration_nanos;
    int64_t queue_micros;         // how long the current or last request waited before a worker took it; -1: unknown
    int64_t max_queue_micros;     // since the pool started
    uint16_t request_id_length;
    uint16_t method_length;
    uint16_t uri_length;
    char request_id[128];
    char method[16];
    char uri[288];
    int32_t holds_permit;         // 1 while this worker holds a pool-wide permit (a password hash); see SharedPermits
    int32_t leave_reason;         // why the worker retired itself (Scoreboard.LeaveReason), written before the state
};

// The permit flags are the one place where workers read each other's writes to decide: sequentially consistent
// atomics, so that two workers raising their flags at once cannot both miss the other's (Dekker's argument).
static inline void perch_store_flag(int32_t *flag, int32_t value) { __atomic_store_n(flag, value, __ATOMIC_SEQ_CST); }
static inline int32_t perch_load_flag(int32_t *flag) { return __atomic_load_n(flag, __ATOMIC_SEQ_CST); }
