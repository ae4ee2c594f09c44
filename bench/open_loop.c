// An open-loop load at a constant mean rate, as bench/open_loop.py describes it, in C: requests arrive as a
// Poisson process (independent clients), each on an idle keep-alive connection (a new one when none is idle), and
// each latency counts from the moment the request was due, so a slow answer cannot hide the queue behind it.
// Prints a summary in hey's format (bench/figures.py reads it).
//
// The Python generator spent about 1 ms of its own per request on this 2-core box (its p50 against /health was
// 1.1 ms) and its CPU competed with the server it measured; this one waits in epoll with a timer to the
// nanosecond and parses answers in place.
//
//   cc -O2 -o open_loop bench/open_loop.c -lm
//   open_loop --rate 300 --duration 20 [--warmup 3] [--header 'Authorization: Bearer ...'] [--method POST --body FILE]
//             [--trace FILE] http://127.0.0.1:8080/path
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 4096
#define BUFFER 65536

typedef struct {
    int fd;
    int busy;          // a request is out on it
    int connecting;    // connect() not finished yet
    double due;        // when its request was due
    size_t sent;       // bytes of the request written
    char in[BUFFER];
    size_t have;       // bytes of the answer read
} connection;

static connection conns[MAX_CONNECTIONS];
static int idle[MAX_CONNECTIONS], idle_count;
static int epfd;
static struct sockaddr_in target;
static char *request;
static size_t request_length;

static double *latencies;
static size_t latency_count, latency_capacity;
static int status_counts[600];
static long errors_refused, errors_reset, errors_other;
static double start;
static FILE *trace;
static long outstanding;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void record(double due, double latency, int status) {
    if (due < start) return;  // a warm-up request
    if (latency_count == latency_capacity) {
        latency_capacity = latency_capacity ? latency_capacity * 2 : 65536;
        latencies = realloc(latencies, latency_capacity * sizeof(double));
    }
    latencies[latency_count++] = latency;
    if (status >= 0 && status < 600) status_counts[status]++;
    if (trace) fprintf(trace, "%.6f %.6f %d\n", due - start, latency, status);
}

/// Closes a connection. One with a request out counts an error (after the warm-up); an idle one the server
/// closed leaves the idle stack.
static void fail(connection *c, int error) {
    if (c->busy) {
        if (c->due >= start) {
            if (error == ECONNREFUSED) errors_refused++;
            else if (error == ECONNRESET || error == EPIPE || error == 0) errors_reset++;
            else errors_other++;
        }
        outstanding--;
    } else {
        for (int i = 0; i < idle_count; i++)
            if (idle[i] == c->fd) {
                idle[i] = idle[--idle_count];
                break;
            }
    }
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->busy = 0;
}

static int open_connection(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (fd >= MAX_CONNECTIONS) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connection *c = &conns[fd];
    memset(c, 0, offsetof(connection, in));
    c->fd = fd;
    c->have = 0;
    if (connect(fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS) {
        close(fd);
        c->fd = -1;
        return -1;
    }
    c->connecting = 1;
    struct epoll_event event = {.events = EPOLLIN | EPOLLOUT, .data.fd = fd};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
    return fd;
}

/// Writes what is left of the request; watches for writability only while some is left.
static void send_more(connection *c) {
    while (c->sent < request_length) {
        ssize_t n = write(c->fd, request + c->sent, request_length - c->sent);
        if (n < 0) {
            if (errno == EAGAIN) break;
            fail(c, errno);
            return;
        }
        c->sent += (size_t)n;
    }
    struct epoll_event event = {.events = EPOLLIN | (c->sent < request_length ? EPOLLOUT : 0), .data.fd = c->fd};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &event);
}

static void issue(double due) {
    int fd = idle_count ? idle[--idle_count] : open_connection();
    if (fd < 0) {
        if (due >= start) errors_other++;
        return;
    }
    outstanding++;
    connection *c = &conns[fd];
    c->busy = 1;
    c->due = due;
    c->sent = 0;
    c->have = 0;
    if (!c->connecting) send_more(c);
}

/// A whole answer in `c->in`: its status and length, or 0 while more must be read. -1: an answer this cannot read.
static int parse(connection *c, int *status, size_t *total) {
    char *end = memmem(c->in, c->have, "\r\n\r\n", 4);
    if (!end) return c->have == BUFFER ? -1 : 0;
    size_t head = (size_t)(end - c->in) + 4;
    if (c->have < 12 || memcmp(c->in, "HTTP/1.", 7) != 0) return -1;
    *status = atoi(c->in + 9);
    size_t length = 0;
    for (char *line = memchr(c->in, '\n', head); line && line < end; line = memchr(line + 1, '\n', (size_t)(end - line))) {
        if (strncasecmp(line + 1, "content-length:", 15) == 0) length = strtoul(line + 16, NULL, 10);
        if (strncasecmp(line + 1, "transfer-encoding:", 18) == 0) return -1;  // only sized answers are expected
    }
    if (head + length > BUFFER) return -1;
    if (c->have < head + length) return 0;
    *total = head + length;
    return 1;
}

static void receive(connection *c) {
    for (;;) {
        ssize_t n = read(c->fd, c->in + c->have, BUFFER - c->have);
        if (n == 0) {
            fail(c, 0);
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN) return;
            fail(c, errno);
            return;
        }
        c->have += (size_t)n;
        int status;
        size_t total;
        int parsed = parse(c, &status, &total);
        if (parsed < 0) {
            fail(c, EPROTO);
            return;
        }
        if (parsed == 0) continue;
        if (!c->busy || total != c->have) {  // an answer nobody asked for, or more than one
            fail(c, EPROTO);
            return;
        }
        record(c->due, now() - c->due, status);
        c->busy = 0;
        c->have = 0;
        outstanding--;
        idle[idle_count++] = c->fd;
        return;
    }
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pick(double p) {
    if (!latency_count) return NAN;
    size_t i = (size_t)(latency_count * p / 100);
    return latencies[i < latency_count ? i : latency_count - 1];
}

static void usage(void) {
    fprintf(stderr, "usage: open_loop --rate R --duration S [--warmup S] [--header H]... [--method M] [--body FILE] [--trace FILE] URL\n");
    exit(2);
}

int main(int argc, char **argv) {
    double rate = 0, duration = 0, warmup = 0;
    const char *method = "GET", *body_path = NULL, *trace_path = NULL, *url = NULL;
    char headers[8192] = "";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rate") && i + 1 < argc) rate = atof(argv[++i]);
        else if (!strcmp(argv[i], "--duration") && i + 1 < argc) duration = atof(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atof(argv[++i]);
        else if (!strcmp(argv[i], "--method") && i + 1 < argc) method = argv[++i];
        else if (!strcmp(argv[i], "--body") && i + 1 < argc) body_path = argv[++i];
        else if (!strcmp(argv[i], "--trace") && i + 1 < argc) trace_path = argv[++i];
        else if (!strcmp(argv[i], "--header") && i + 1 < argc) {
            if (strlen(headers) + strlen(argv[i + 1]) + 3 >= sizeof headers) usage();
            strcat(headers, argv[++i]);
            strcat(headers, "\r\n");
        } else if (argv[i][0] != '-' && !url) url = argv[i];
        else usage();
    }
    if (rate <= 0 || duration <= 0 || !url || strncmp(url, "http://", 7) != 0) usage();

    // http://host:port/path?query (the benches' servers listen on 127.0.0.1)
    char host[256];
    const char *rest = url + 7, *slash = strchr(rest, '/');
    const char *path = slash ? slash : "/";
    size_t host_length = slash ? (size_t)(slash - rest) : strlen(rest);
    if (host_length >= sizeof host) usage();
    memcpy(host, rest, host_length);
    host[host_length] = 0;
    char *colon = strrchr(host, ':');
    int port = colon ? atoi(colon + 1) : 80;
    char address[256];
    snprintf(address, sizeof address, "%.*s", colon ? (int)(colon - host) : (int)host_length, host);
    if (!strcmp(address, "localhost")) strcpy(address, "127.0.0.1");
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, address, &target.sin_addr) != 1) {
        fprintf(stderr, "open_loop: an IPv4 address is needed, not %s\n", address);
        return 2;
    }

    char *body = NULL;
    size_t body_length = 0;
    if (body_path) {
        FILE *f = fopen(body_path, "rb");
        if (!f) {
            perror(body_path);
            return 2;
        }
        fseek(f, 0, SEEK_END);
        body_length = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        body = malloc(body_length + 1);
        if (fread(body, 1, body_length, f) != body_length) return 2;
        fclose(f);
    }
    request = malloc(strlen(method) + strlen(path) + strlen(host) + strlen(headers) + body_length + 256);
    int head = sprintf(request, "%s %s HTTP/1.1\r\nHost: %s\r\n%s", method, path, host, headers);
    if (body) head += sprintf(request + head, "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_length);
    head += sprintf(request + head, "\r\n");
    if (body) memcpy(request + head, body, body_length);
    request_length = (size_t)head + body_length;

    if (trace_path && !(trace = fopen(trace_path, "w"))) {
        perror(trace_path);
        return 2;
    }
    for (int i = 0; i < MAX_CONNECTIONS; i++) conns[i].fd = -1;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event timer_event = {.events = EPOLLIN, .data.fd = -2};
    epoll_ctl(epfd, EPOLL_CTL_ADD, timer, &timer_event);

    // The same arrivals every run (a fixed seed), as the Python generator.
    unsigned short seed[3] = {7, 7, 7};
    start = now() + warmup;
    double due = start - warmup, stop = start + duration;
    due += -log(1.0 - erand48(seed)) / rate;
    struct epoll_event events[256];
    for (;;) {
        double t = now();
        while (due <= t && due - start < duration) {
            issue(due);
            due += -log(1.0 - erand48(seed)) / rate;
        }
        int sending = due - start < duration;
        if (!sending && outstanding <= 0) break;
        if (!sending && t > stop + 30) break;  // answers that never come
        if (sending) {
            struct itimerspec at = {0};
            at.it_value.tv_sec = (time_t)due;
            at.it_value.tv_nsec = (long)((due - (double)(time_t)due) * 1e9);
            timerfd_settime(timer, TFD_TIMER_ABSTIME, &at, NULL);
        }
        int n = epoll_wait(epfd, events, 256, sending ? -1 : 100);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == -2) {
                uint64_t expirations;
                if (read(timer, &expirations, sizeof expirations) < 0) {}
                continue;
            }
            connection *c = &conns[fd];
            if (c->fd < 0) continue;
            if (c->connecting && (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int error = 0;
                socklen_t size = sizeof error;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
                if (error) {
                    fail(c, error);
                    continue;
                }
                c->connecting = 0;
                send_more(c);
                continue;
            }
            if ((events[i].events & EPOLLOUT) && c->busy && c->sent < request_length) send_more(c);
            if (c->fd >= 0 && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) receive(c);
        }
    }
    double elapsed = now() - start;
    if (elapsed > duration + 30) elapsed = duration;
    qsort(latencies, latency_count, sizeof(double), compare);
    if (trace) fclose(trace);
    int open_count = 0;
    for (int i = 0; i < MAX_CONNECTIONS; i++) open_count += conns[i].fd >= 0;
    printf("Summary:\n  Total:\t%.4f secs\n  Requests/sec:\t%.4f\n\n", elapsed, latency_count / elapsed);
    printf("Open loop: Poisson arrivals at %g/s, %d connections at the end\n\n", rate, open_count);
    printf("Latency distribution:\n");
    int ps[] = {10, 25, 50, 75, 90, 95, 99};
    for (int i = 0; i < 7; i++) printf("  %d%% in %.4f secs\n", ps[i], pick(ps[i]));
    printf("\nStatus code distribution:\n");
    for (int s = 0; s < 600; s++)
        if (status_counts[s]) printf("  [%d]\t%d responses\n", s, status_counts[s]);
    if (errors_refused + errors_reset + errors_other) {
        printf("\nError distribution:\n");
        if (errors_refused) printf("  [%ld]\tConnectionRefusedError\n", errors_refused);
        if (errors_reset) printf("  [%ld]\tConnectionResetError\n", errors_reset);
        if (errors_other) printf("  [%ld]\tOSError\n", errors_other);
    }
    return 0;
}
