// tcp_load: the connection-rate load of bench/run.py in C, so that the
// load generator, not the translator under test, stops being what limits
// the rate on a small machine (the Python pair took a whole core of two).
// Same protocol and output as load_generators.py's tcpserver and cps:
//
//   tcp_load server PORT
//       on 127.0.0.1:PORT; answers "GET ..." with RESPONSE and closes,
//       "HOLD\r\n" with RESPONSE and keeps the connection until the peer
//       closes; prints LISTENING once bound.
//   tcp_load cps HOST PORT SECONDS WORKERS
//       WORKERS connections at once, each connect / REQUEST / read RESPONSE
//       to EOF / close, again until SECONDS have passed; prints one JSON
//       line {"ok","err","short","last_err","elapsed","cpu_s"}.
//
// One thread, epoll, non-blocking sockets: as Python's asyncio helpers, so
// both are single-core load generators, this one much cheaper per
// connection. Every wait is bounded (5 s per step, as the Python client).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char kRequest[] = "GET /bench HTTP/1.0\r\n\r\n";  // 23 bytes
static const char kHold[] = "HOLD\r\n";
#define RESPONSE_SIZE 64
static char response[RESPONSE_SIZE];

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void raise_nofile(void) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

static int fail(const char* what) {
  fprintf(stderr, "tcp_load: %s: %s\n", what, strerror(errno));
  return 1;
}

// ---- server ----

struct served {
  int fd;
  int holding;
  size_t got;
};

static void server_close(int epoll_fd, struct served* s) {
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, s->fd, NULL);
  close(s->fd);
  free(s);
}

static int run_server(int port) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (listener < 0) return fail("socket");
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, (struct sockaddr*)&address, sizeof address) < 0) return fail("bind");
  if (listen(listener, 4096) < 0) return fail("listen");
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return fail("epoll_create1");
  struct epoll_event event = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &event);
  printf("LISTENING\n");
  fflush(stdout);
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(epoll_fd, events, 256, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("epoll_wait");
    for (int i = 0; i < n; ++i) {
      struct served* s = events[i].data.ptr;
      if (!s) {
        for (;;) {
          int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          s = calloc(1, sizeof *s);
          if (!s) {
            close(fd);
            continue;
          }
          s->fd = fd;
          struct epoll_event in = {.events = EPOLLIN, .data.ptr = s};
          epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &in);
        }
        continue;
      }
      char buffer[4096];
      ssize_t got = recv(s->fd, buffer, sizeof buffer, 0);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (got <= 0) {
        server_close(epoll_fd, s);
        continue;
      }
      if (s->holding) continue;
      // The first bytes decide, as the Python responder's startswith().
      if (s->got == 0 && (size_t)got >= sizeof kHold - 1 &&
          memcmp(buffer, kHold, sizeof kHold - 1) == 0) {
        s->holding = 1;
        send(s->fd, response, RESPONSE_SIZE, MSG_NOSIGNAL);
        continue;
      }
      s->got += (size_t)got;
      // Answer and close first (HTTP/1.0 style): the client closes after
      // EOF, so no TIME-WAIT piles up on its ephemeral ports.
      send(s->fd, response, RESPONSE_SIZE, MSG_NOSIGNAL);
      server_close(epoll_fd, s);
    }
  }
}

// ---- connection-rate client ----

enum state { kConnecting, kReading };
struct worker {
  int fd;
  enum state state;
  size_t got;
  double step_deadline;
};

struct stats {
  long ok, err, shortfall;
  char last_err[128];
};

static void note_error(struct stats* stats, const char* what, int error) {
  ++stats->err;
  snprintf(stats->last_err, sizeof stats->last_err, "%s: %s", what, strerror(error));
}

static void worker_close(int epoll_fd, struct worker* w) {
  if (w->fd < 0) return;
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
  close(w->fd);
  w->fd = -1;
}

// Opens the worker's next connection; a failure is counted and leaves the
// worker idle, to be started again on the next turn.
static void worker_start(int epoll_fd, struct worker* w, const struct sockaddr_in* target,
                         struct stats* stats) {
  w->got = 0;
  w->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (w->fd < 0) {
    note_error(stats, "socket", errno);
    return;
  }
  w->step_deadline = now_s() + 5.0;
  int rc = connect(w->fd, (const struct sockaddr*)target, sizeof *target);
  if (rc < 0 && errno != EINPROGRESS) {
    note_error(stats, "connect", errno);
    close(w->fd);
    w->fd = -1;
    return;
  }
  w->state = kConnecting;
  struct epoll_event event = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.ptr = w};
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, w->fd, &event);
}

static void worker_ready(int epoll_fd, struct worker* w, struct stats* stats) {
  if (w->state == kConnecting) {
    int error = 0;
    socklen_t size = sizeof error;
    getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &error, &size);
    if (error) {
      note_error(stats, "connect", error);
      worker_close(epoll_fd, w);
      return;
    }
    if (send(w->fd, kRequest, sizeof kRequest - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof kRequest - 1)) {
      note_error(stats, "send", errno);
      worker_close(epoll_fd, w);
      return;
    }
    w->state = kReading;
    w->step_deadline = now_s() + 5.0;
    struct epoll_event event = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = w};
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, w->fd, &event);
    return;
  }
  char buffer[4096];
  for (;;) {
    ssize_t got = recv(w->fd, buffer, sizeof buffer, 0);
    if (got > 0) {
      w->got += (size_t)got;
      continue;
    }
    if (got < 0 && errno == EAGAIN) return;
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      note_error(stats, "recv", errno);
    } else if (w->got == RESPONSE_SIZE) {
      ++stats->ok;
    } else {
      ++stats->shortfall;
    }
    worker_close(epoll_fd, w);
    return;
  }
}

static int run_cps(const char* host, int port, double seconds, int workers) {
  struct sockaddr_in target = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &target.sin_addr) != 1) {
    fprintf(stderr, "tcp_load: not an IPv4 address: %s\n", host);
    return 2;
  }
  if (workers < 1 || workers > 4096 || seconds <= 0 || seconds > 3600) {
    fprintf(stderr, "tcp_load: workers 1..4096 and seconds 0..3600\n");
    return 2;
  }
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return fail("epoll_create1");
  struct worker* pool = calloc((size_t)workers, sizeof *pool);
  if (!pool) return fail("calloc");
  struct stats stats = {0};
  const double start = now_s();
  const double deadline = start + seconds;
  for (int i = 0; i < workers; ++i) pool[i].fd = -1;
  for (int i = 0; i < workers; ++i) worker_start(epoll_fd, &pool[i], &target, &stats);
  struct epoll_event events[256];
  for (;;) {
    double now = now_s();
    int open = 0;
    for (int i = 0; i < workers; ++i) {
      struct worker* w = &pool[i];
      if (w->fd >= 0 && now >= w->step_deadline) {
        ++stats.err;
        snprintf(stats.last_err, sizeof stats.last_err, "timeout");
        worker_close(epoll_fd, w);
      }
      if (w->fd < 0 && now < deadline) worker_start(epoll_fd, w, &target, &stats);
      if (w->fd >= 0) ++open;
    }
    if (open == 0) break;
    int n = epoll_wait(epoll_fd, events, 256, 100);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("epoll_wait");
    for (int i = 0; i < n; ++i) {
      struct worker* w = events[i].data.ptr;
      worker_ready(epoll_fd, w, &stats);
      // Start the next connection at once, as the Python worker's loop does.
      if (w->fd < 0 && now_s() < deadline) worker_start(epoll_fd, w, &target, &stats);
    }
  }
  const double elapsed = now_s() - start;
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  const double cpu = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
                     (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
  printf("{\"ok\": %ld, \"err\": %ld, \"short\": %ld, \"last_err\": ", stats.ok, stats.err,
         stats.shortfall);
  if (stats.last_err[0])
    printf("\"%s\"", stats.last_err);
  else
    printf("null");
  printf(", \"elapsed\": %.6f, \"cpu_s\": %.6f}\n", elapsed, cpu);
  fflush(stdout);
  free(pool);
  return 0;
}

int main(int argc, char** argv) {
  memcpy(response, "HTTP/1.0 200 OK\r\n\r\n", 19);
  memset(response + 19, 'x', RESPONSE_SIZE - 19);
  signal(SIGPIPE, SIG_IGN);
  raise_nofile();
  if (argc == 3 && strcmp(argv[1], "server") == 0) return run_server(atoi(argv[2]));
  if (argc == 6 && strcmp(argv[1], "cps") == 0)
    return run_cps(argv[2], atoi(argv[3]), atof(argv[4]), atoi(argv[5]));
  fprintf(stderr,
          "usage: tcp_load server PORT\n"
          "       tcp_load cps HOST PORT SECONDS WORKERS\n");
  return 2;
}
