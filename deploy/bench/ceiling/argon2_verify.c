/*
 * The login ceiling: bare crypto_pwhash_str_verify calls with the service's Argon2id parameters.
 *
 *   argon2_verify SECONDS [PROCESSES]     (PROCESSES defaults to the number of online cores)
 *
 * Limits come from PERCH_ARGON2_OPSLIMIT and PERCH_ARGON2_MEMLIMIT (bytes), default libsodium's
 * INTERACTIVE (2 passes, 64 MiB), as the service. One hash is made first; then PROCESSES processes verify
 * the right password against it in a loop for SECONDS and the parent prints one parseable line:
 *   ARGON2 verifies=N seconds=S rate=R processes=P opslimit=O memlimit=M
 * A login can never be faster than R per second on this machine with these limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>

#include <sodium.h>

static const char password[] = "bench-password-1";

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long limit_from_env(const char *name, unsigned long long fallback) {
    const char *text = getenv(name);
    if (!text || !*text) return fallback;
    char *end;
    unsigned long long value = strtoull(text, &end, 10);
    if (*end) { fprintf(stderr, "argon2_verify: %s is not a number\n", name); exit(2); }
    return value;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: argon2_verify SECONDS [PROCESSES]\n"); return 2; }
    double seconds = atof(argv[1]);
    long processes = argc > 2 ? atol(argv[2]) : sysconf(_SC_NPROCESSORS_ONLN);
    if (seconds <= 0 || seconds > 3600 || processes < 1 || processes > 512) {
        fprintf(stderr, "argon2_verify: SECONDS must be in (0, 3600], PROCESSES in 1..512\n");
        return 2;
    }
    if (sodium_init() < 0) { fprintf(stderr, "argon2_verify: sodium_init failed\n"); return 1; }
    unsigned long long ops = limit_from_env("PERCH_ARGON2_OPSLIMIT", crypto_pwhash_OPSLIMIT_INTERACTIVE);
    size_t mem = (size_t)limit_from_env("PERCH_ARGON2_MEMLIMIT", crypto_pwhash_MEMLIMIT_INTERACTIVE);

    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), ops, mem) != 0) {
        fprintf(stderr, "argon2_verify: crypto_pwhash_str refused opslimit=%llu memlimit=%zu\n", ops, mem);
        return 1;
    }

    int pipes[2];
    if (pipe(pipes) != 0) { perror("pipe"); return 1; }
    double start = now();
    for (long i = 0; i < processes; i++) {
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            unsigned long long count = 0;
            while (now() - start < seconds) {
                if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0) {
                    fprintf(stderr, "argon2_verify: verification failed\n");
                    _exit(1);
                }
                count++;
            }
            ssize_t written = write(pipes[1], &count, sizeof count);
            _exit(written == sizeof count ? 0 : 1);
        }
    }
    close(pipes[1]);
    unsigned long long total = 0, count;
    while (read(pipes[0], &count, sizeof count) == sizeof count) total += count;
    int failed = 0, status;
    while (wait(&status) > 0) if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
    double elapsed = now() - start;
    if (failed) { fprintf(stderr, "argon2_verify: a verifying process failed\n"); return 1; }
    printf("ARGON2 verifies=%llu seconds=%.2f rate=%.2f processes=%ld opslimit=%llu memlimit=%zu\n",
           total, elapsed, (double)total / elapsed, processes, ops, mem);
    return 0;
}
