/*
 * The database ceiling: what any FastCGI app on this database can do for GET /api/v1/posts/{id}.
 *
 *   db_read SOCKET_PATH WORKERS DB_SOCKET DB_USER DB_PASSWORD_FILE DB_NAME
 *
 * Pre-forked like fcgi_hello.c (same accept and keep-conn loop), each child with one MariaDB connection
 * (Connector/C, as perch) and one statement prepared at start: perch's own query for a post with its author.
 * Each request binds the id from the URI, executes, and answers the JSON perch answers (same fields, same
 * order, RFC 3339 timestamps), or a 404 for a missing or unpublished post. No routing, no middleware, no
 * validation beyond the id: the difference to perch is the cost of the framework, not of the database.
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
#include <mysql.h>

static const char query[] =
    "SELECT p.id, p.author_id, u.full_name, p.title, p.content, p.published, p.version, p.created_at, p.updated_at "
    "FROM posts p STRAIGHT_JOIN users u ON u.id = p.author_id WHERE p.id = ?";

static volatile sig_atomic_t stopping = 0;
static void on_stop(int sig) { (void)sig; stopping = 1; }

static int bind_socket(const char *path) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof address.sun_path) { fprintf(stderr, "db_read: socket path too long\n"); exit(2); }
    strcpy(address.sun_path, path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 511) != 0) {
        perror("db_read: bind/listen");
        exit(1);
    }
    chmod(path, 0660);
    return fd;
}

/* A growing output buffer for one response body. */
static char *out;
static size_t out_len, out_cap;
static void put(const char *bytes, size_t n) {
    if (out_len + n > out_cap) {
        while (out_len + n > out_cap) out_cap = out_cap ? out_cap * 2 : 4096;
        out = realloc(out, out_cap);
        if (!out) { perror("db_read: realloc"); _exit(1); }
    }
    memcpy(out + out_len, bytes, n);
    out_len += n;
}
static void puts_(const char *text) { put(text, strlen(text)); }
static void put_string(const char *s, unsigned long n) {  /* a JSON string, escaped as RFC 8259 asks */
    put("\"", 1);
    unsigned long run = 0;
    for (unsigned long i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        put(s + run, i - run);
        run = i + 1;
        char escaped[8];
        switch (c) {
        case '"': puts_("\\\""); break;
        case '\\': puts_("\\\\"); break;
        case '\n': puts_("\\n"); break;
        case '\r': puts_("\\r"); break;
        case '\t': puts_("\\t"); break;
        default: snprintf(escaped, sizeof escaped, "\\u%04x", c); puts_(escaped);
        }
    }
    put(s + run, n - run);
    put("\"", 1);
}
static void put_time(const MYSQL_TIME *t) {
    char text[40];
    int n = snprintf(text, sizeof text, "\"%04u-%02u-%02uT%02u:%02u:%02u", t->year, t->month, t->day, t->hour, t->minute, t->second);
    if (t->second_part) n += snprintf(text + n, sizeof text - (size_t)n, ".%06lu", t->second_part);
    snprintf(text + n, sizeof text - (size_t)n, "Z\"");
    puts_(text);
}

static void answer(FCGX_Request *request, int status, const char *reason) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "Status: %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
                     "X-Content-Type-Options: nosniff\r\nContent-Length: %zu\r\n\r\n", status, reason, out_len);
    FCGX_PutStr(head, n, request->out);
    FCGX_PutStr(out, (int)out_len, request->out);
}

static MYSQL *db;
static MYSQL_STMT *statement;
static long long param_id;
static long long id, author_id, version;
static signed char published;
static char full_name[401], title[801];
static char *content;
static const unsigned long content_cap = 400001;
static unsigned long full_name_len, title_len, content_len;
static my_bool full_name_null;
static MYSQL_TIME created_at, updated_at;

static void connect_database(const char *socket_path, const char *user, const char *password, const char *name) {
    db = mysql_init(NULL);
    if (!mysql_real_connect(db, NULL, user, password, name, 0, socket_path, 0)) {
        fprintf(stderr, "db_read: connect: %s\n", mysql_error(db));
        _exit(1);
    }
    mysql_set_character_set(db, "utf8mb4");
    statement = mysql_stmt_init(db);
    if (mysql_stmt_prepare(statement, query, sizeof query - 1)) {
        fprintf(stderr, "db_read: prepare: %s\n", mysql_stmt_error(statement));
        _exit(1);
    }
    MYSQL_BIND param = {.buffer_type = MYSQL_TYPE_LONGLONG, .buffer = &param_id};
    mysql_stmt_bind_param(statement, &param);
    content = malloc(content_cap);
    MYSQL_BIND result[9] = {
        {.buffer_type = MYSQL_TYPE_LONGLONG, .buffer = &id},
        {.buffer_type = MYSQL_TYPE_LONGLONG, .buffer = &author_id},
        {.buffer_type = MYSQL_TYPE_STRING, .buffer = full_name, .buffer_length = sizeof full_name, .length = &full_name_len, .is_null = &full_name_null},
        {.buffer_type = MYSQL_TYPE_STRING, .buffer = title, .buffer_length = sizeof title, .length = &title_len},
        {.buffer_type = MYSQL_TYPE_STRING, .buffer = content, .buffer_length = content_cap, .length = &content_len},
        {.buffer_type = MYSQL_TYPE_TINY, .buffer = &published},
        {.buffer_type = MYSQL_TYPE_LONGLONG, .buffer = &version},
        {.buffer_type = MYSQL_TYPE_DATETIME, .buffer = &created_at},
        {.buffer_type = MYSQL_TYPE_DATETIME, .buffer = &updated_at},
    };
    mysql_stmt_bind_result(statement, result);
}

static void serve(FCGX_Request *request) {
    out_len = 0;
    const char *uri = FCGX_GetParam("REQUEST_URI", request->envp);
    const char *prefix = "/api/v1/posts/";
    char *end = NULL;
    param_id = uri && strncmp(uri, prefix, strlen(prefix)) == 0 ? strtoll(uri + strlen(prefix), &end, 10) : 0;
    int found = 0;
    if (param_id > 0 && end && *end == '\0') {
        if (mysql_stmt_execute(statement)) {
            fprintf(stderr, "db_read: execute: %s\n", mysql_stmt_error(statement));
            puts_("{\"detail\":\"Internal Server Error\"}");
            answer(request, 500, "Internal Server Error");
            return;
        }
        found = mysql_stmt_fetch(statement) == 0 && published;
        while (mysql_stmt_fetch(statement) == 0) {}
        mysql_stmt_free_result(statement);
    }
    if (!found) {
        puts_("{\"detail\":\"Not Found\"}");
        answer(request, 404, "Not Found");
        return;
    }
    char number[32];
    snprintf(number, sizeof number, "{\"id\":%lld,\"title\":", id); puts_(number);
    put_string(title, title_len);
    puts_(",\"content\":"); put_string(content, content_len);
    puts_(published ? ",\"published\":true" : ",\"published\":false");
    snprintf(number, sizeof number, ",\"author_id\":%lld", author_id); puts_(number);
    snprintf(number, sizeof number, ",\"author\":{\"id\":%lld,\"full_name\":", author_id); puts_(number);
    if (full_name_null) puts_("null"); else put_string(full_name, full_name_len);
    puts_("},\"created_at\":"); put_time(&created_at);
    puts_(",\"updated_at\":"); put_time(&updated_at);
    puts_("}");
    answer(request, 200, "OK");
}

static void child(int listen_fd, char **argv) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1) _exit(0);
    signal(SIGPIPE, SIG_IGN);
    char password[256] = "";
    FILE *file = fopen(argv[5], "r");
    if (!file || !fgets(password, sizeof password, file)) { fprintf(stderr, "db_read: cannot read %s\n", argv[5]); _exit(1); }
    fclose(file);
    password[strcspn(password, "\r\n")] = '\0';
    connect_database(argv[3], argv[4], password, argv[6]);
    fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
    FCGX_Init();
    FCGX_Request request;
    FCGX_InitRequest(&request, -1, 0);
    int kept = -1;
    while (!stopping) {  /* fcgi_hello.c's loop */
        struct pollfd fds[2] = {{.fd = listen_fd, .events = POLLIN}, {.fd = kept, .events = POLLIN}};
        int ready = poll(fds, kept >= 0 ? 2 : 1, kept >= 0 ? 2000 : 1000);
        int fd = -1;
        if (kept >= 0) {
            if (ready > 0 && fds[1].revents) fd = kept;
            else if (ready == 0 || fds[0].revents) close(kept);
            kept = -1;
        }
        if (fd < 0) {
            if (ready <= 0 || !fds[0].revents) continue;
            fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0) continue;
        }
        request.ipcFd = fd;
        request.keepConnection = 1;
        request.detached = 1;
        if (FCGX_Accept_r(&request) != 0) { request.ipcFd = -1; continue; }
        int keep = request.keepConnection;
        serve(&request);
        request.keepConnection = 1;
        request.detached = 1;
        FCGX_Finish_r(&request);
        fd = request.ipcFd;
        request.ipcFd = -1;
        if (fd >= 0) { if (keep) kept = fd; else close(fd); }
    }
    _exit(0);
}

int main(int argc, char **argv) {
    if (argc != 7) { fprintf(stderr, "usage: db_read SOCKET_PATH WORKERS DB_SOCKET DB_USER DB_PASSWORD_FILE DB_NAME\n"); return 2; }
    long workers = atol(argv[2]);
    if (workers < 1 || workers > 512) { fprintf(stderr, "db_read: WORKERS must be 1..512\n"); return 2; }
    int listen_fd = bind_socket(argv[1]);
    struct sigaction stop = {.sa_handler = on_stop};
    sigaction(SIGTERM, &stop, NULL);
    sigaction(SIGINT, &stop, NULL);
    pid_t *children = calloc((size_t)workers, sizeof *children);
    for (long i = 0; i < workers; i++) {
        children[i] = fork();
        if (children[i] == 0) child(listen_fd, argv);
        if (children[i] < 0) { perror("db_read: fork"); stopping = 1; break; }
    }
    while (!stopping) {
        int status;
        pid_t dead = waitpid(-1, &status, 0);
        if (dead > 0) { fprintf(stderr, "db_read: child %d exited (status %d)\n", (int)dead, status); break; }
        if (dead < 0 && errno != EINTR) break;
    }
    for (long i = 0; i < workers; i++) if (children[i] > 0) kill(children[i], SIGTERM);
    while (wait(NULL) > 0 || errno == EINTR) {}
    unlink(argv[1]);
    return 0;
}
