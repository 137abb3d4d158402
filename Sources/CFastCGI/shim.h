#include <fcgiapp.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <sys/prctl.h>

// glibc declares ppoll only under _GNU_SOURCE, which Swift's Glibc module is not built with.
// ppoll lets a process keep its signals blocked everywhere but while it waits: no EINTR mid-request.
int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *sigmask);

// prctl is variadic, which Swift cannot call: a worker asks to be TERMed when its master dies.
static inline int perch_die_with_parent(int signal) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0); }

// accept4 is _GNU_SOURCE too: close-on-exec in the same call as the accept, one system call per connection.
#include <sys/socket.h>
int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
