/*
 * ferrozmq benchmark: one program, written only against <zmq.h>, that
 * measures throughput (PUSH -> PULL) and latency (REQ <-> REP) over
 * inproc, tcp or ipc.  Both ends live in this one process, in two threads,
 * sharing one context with the default number of I/O threads.
 *
 *   bench TRANSPORT TEST SIZE [COUNT]     TRANSPORT: inproc | tcp | ipc
 *                                         TEST:      throughput | latency |
 *                                                    curve-throughput |
 *                                                    curve-handshake |
 *                                                    fanout-N | raw-pingpong |
 *                                                    raw-stream | client-server |
 *                                                    radio-dish | idle-conns |
 *                                                    router-dealers | sub-topics |
 *                                                    latency-2ctx
 *   bench --which                         which libzmq got loaded
 *
 * Success: one line on stdout, "key=value" fields after the configuration:
 *   tcp throughput 64 msgs=... elapsed_s=... msg_per_s=... mb_per_s=... lib=4.3.4
 *   tcp latency 1 roundtrips=... elapsed_s=... latency_us=... rtt_us=...
 *       latency_kind=rtt/2 lib=4.3.4
 *   tcp curve-handshake 1 conns=... elapsed_s=... conn_per_s=... lib=4.3.4
 * curve-throughput is throughput with CURVE on both sockets (the PULL is the
 * server); curve-handshake times COUNT fresh CURVE DEALERs, each connecting
 * to one ROUTER server, completing the handshake, making one round trip of
 * SIZE bytes and closing (tcp and ipc only: inproc has no mechanism).
 * client-server and radio-dish are throughput with the draft thread-safe
 * sockets (see run_draft_throughput).
 * Scale (tcp only; SIZE is the number of connections, DEALERs or topics):
 *   tcp idle-conns 10000 conns=... elapsed_s=... conn_per_s=...
 *       cpu_us_per_conn=... rss_kb=... kb_per_conn=... lib=4.3.4
 *       (see run_idle_conns; the CPU is this process's, not the client's)
 *   router-dealers: the throughput line (see run_router_dealers)
 *   sub-topics: msg_per_s plus setup_s and subs_per_s (see run_sub_topics)
 * latency-2ctx is latency with the REQ in a context of its own (tcp, ipc), so
 * each end has its own I/O thread, as two processes would.
 * fanout-N: one PUB to N SUB threads (see run_fanout); raw-*: the same
 * exchanges on plain sockets, no libzmq, as references (see run_raw_pingpong).
 * Throughput and fanout lines carry cpu_s_per_M, the process's CPU seconds
 * (getrusage: user + system, all threads, setup included) per million
 * messages; latency and raw-pingpong runs are pinned to one CPU.
 * Throughput is timed on the receiver from its first to its last message,
 * so it counts msgs-1 intervals; MB is 10^6 bytes of payload.
 * Latency is timed on the REQ side over all round trips (a few warm-up round
 * trips first, not timed); latency_us is half the mean round trip, as
 * libzmq's local_lat/remote_lat report it.
 *
 * Failure: exit status 1 (an API call failed), 2 (a recv/send timed out or
 * the watchdog fired) or 3 (the loaded libzmq lacks a function); stdout gets
 * "ERROR <call>: <reason>" (reason: strerror text or a short description)
 * and stderr the same prefixed with the configuration.
 * Nothing can hang: every socket has ZMQ_RCVTIMEO and ZMQ_SNDTIMEO, and an
 * alarm() watchdog ends the process if a whole run (including zmq_ctx_term)
 * exceeds its limit.
 */
#define _GNU_SOURCE
/* The draft API declares CLIENT/SERVER, RADIO/DISH, zmq_join and
 * zmq_msg_set_group; a library built without it is caught at run time
 * (weak references below), not at compile time. */
#define ZMQ_BUILD_DRAFT_API
#include <zmq.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

/*
 * Every libzmq function this program calls is referenced weakly, so that a
 * library still missing some of them loads anyway: the missing ones resolve
 * to NULL and the run reports them instead of dying in the dynamic loader.
 */
#pragma weak zmq_ctx_new
#pragma weak zmq_ctx_term
#pragma weak zmq_socket
#pragma weak zmq_close
#pragma weak zmq_setsockopt
#pragma weak zmq_getsockopt
#pragma weak zmq_bind
#pragma weak zmq_connect
#pragma weak zmq_msg_init
#pragma weak zmq_msg_init_size
#pragma weak zmq_msg_send
#pragma weak zmq_msg_recv
#pragma weak zmq_msg_size
#pragma weak zmq_msg_data
#pragma weak zmq_msg_close
#pragma weak zmq_msg_more
#pragma weak zmq_errno
#pragma weak zmq_strerror
#pragma weak zmq_version
#pragma weak zmq_join
#pragma weak zmq_msg_set_group
#pragma weak zmq_ctx_set

#define IO_TIMEOUT_MS 10000   /* per recv/send: no progress for this long fails */
#define WATCHDOG_S 120        /* whole run, default; BENCH_WATCHDOG_S overrides */
#define LAT_WARMUP 100        /* untimed round trips before the latency clock */

enum { EXIT_API = 1, EXIT_TIMEOUT = 2, EXIT_MISSING = 3 };

static void usage(void);

static char ipc_path[108];    /* non-empty while an ipc endpoint may exist */
static char cfg_label[64];    /* "tcp throughput 64", for messages */
static volatile pid_t child_pid; /* idle-conns: the client process, killed on failure */

/* ---------------------------------------------------------------- errors */

static void cleanup_ipc(void)
{
    if (ipc_path[0])
        unlink(ipc_path);
}

/* Print "ERROR <reason>" on stdout and the details on stderr, then leave
 * without running atexit handlers (another thread may be inside libzmq). */
static void fail(int code, const char *what, const char *reason)
{
    cleanup_ipc();
    if (child_pid > 0)
        kill(child_pid, SIGKILL);
    fflush(stdout);
    printf("ERROR %s: %s\n", what, reason);
    fprintf(stderr, "bench: %s: %s: %s\n", cfg_label[0] ? cfg_label : "setup",
            what, reason);
    fflush(NULL);
    _exit(code);
}

static const char *err_text(int e)
{
    return zmq_strerror ? zmq_strerror(e) : strerror(e);
}

static int last_errno(void)
{
    return zmq_errno ? zmq_errno() : errno;
}

/* An API call returned failure: report it, a timeout distinctly. */
static void fail_call(const char *what)
{
    int e = last_errno();
    char reason[160];
    if (e == EAGAIN) {
        snprintf(reason, sizeof reason, "timeout (no progress for %d s)",
                 IO_TIMEOUT_MS / 1000);
        fail(EXIT_TIMEOUT, what, reason);
    }
    fail(EXIT_API, what, err_text(e));
}

static char alarm_out[128], alarm_err[160];   /* formatted before arming */

static void on_alarm(int sig)
{
    (void)sig;
    if (ipc_path[0])
        unlink(ipc_path);
    if (child_pid > 0)
        kill(child_pid, SIGKILL);
    if (write(STDOUT_FILENO, alarm_out, strlen(alarm_out)) < 0) { /* ignore */ }
    if (write(STDERR_FILENO, alarm_err, strlen(alarm_err)) < 0) { /* ignore */ }
    _exit(EXIT_TIMEOUT);
}

#define NEED(fn)                                                        \
    do {                                                                \
        if (!(fn))                                                      \
            fail(EXIT_MISSING, "loader", "missing symbol " #fn);        \
    } while (0)

static void check_symbols(void)
{
    NEED(zmq_ctx_new);
    NEED(zmq_ctx_term);
    NEED(zmq_socket);
    NEED(zmq_close);
    NEED(zmq_setsockopt);
    NEED(zmq_getsockopt);
    NEED(zmq_bind);
    NEED(zmq_connect);
    NEED(zmq_msg_init);
    NEED(zmq_msg_init_size);
    NEED(zmq_msg_send);
    NEED(zmq_msg_recv);
    NEED(zmq_msg_size);
    NEED(zmq_msg_data);
    NEED(zmq_msg_close);
}

/* ---------------------------------------------------------------- helpers */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds (user + system) the whole process has used so far: both ends
 * and the library's I/O threads. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Round trips pin the process (threads created later inherit the mask, so
 * the library's I/O threads too) to one CPU: every hand-over is then a real
 * wake-up rather than a spin on an idle second core. BENCH_CPU picks the CPU,
 * else the first one the process may use. */
static void pin_one_cpu(void)
{
    cpu_set_t set;
    int cpu = -1;
    const char *env = getenv("BENCH_CPU");
    if (env && *env)
        cpu = atoi(env);
    else if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int i = 0; i < CPU_SETSIZE; i++)
            if (CPU_ISSET(i, &set)) {
                cpu = i;
                break;
            }
    }
    if (cpu < 0)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        fail(EXIT_API, "sched_setaffinity", strerror(errno));
}

static void set_int(void *s, int opt, int value, const char *name)
{
    if (zmq_setsockopt(s, opt, &value, sizeof value) != 0) {
        char what[64];
        snprintf(what, sizeof what, "zmq_setsockopt(%s)", name);
        fail_call(what);
    }
}

static void *open_socket(void *ctx, int type, const char *type_name, int linger_ms)
{
    void *s = zmq_socket(ctx, type);
    if (!s) {
        char what[64];
        snprintf(what, sizeof what, "zmq_socket(%s)", type_name);
        fail_call(what);
    }
    set_int(s, ZMQ_RCVTIMEO, IO_TIMEOUT_MS, "ZMQ_RCVTIMEO");
    set_int(s, ZMQ_SNDTIMEO, IO_TIMEOUT_MS, "ZMQ_SNDTIMEO");
    set_int(s, ZMQ_LINGER, linger_ms, "ZMQ_LINGER");
    return s;
}

static void close_socket(void *s)
{
    if (zmq_close(s) != 0)
        fail_call("zmq_close");
}

/* Bind s to a fresh endpoint of the transport; write the address a peer
 * should connect to into out. */
static void bind_endpoint(void *s, const char *transport, const char *test,
                          char *out, size_t out_len)
{
    char addr[160];
    if (strcmp(transport, "inproc") == 0) {
        snprintf(addr, sizeof addr, "inproc://bench-%s-%ld", test, (long)getpid());
    } else if (strcmp(transport, "tcp") == 0) {
        snprintf(addr, sizeof addr, "tcp://127.0.0.1:*");
    } else { /* ipc */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(ipc_path, sizeof ipc_path, "/tmp/ferrozmq-bench-%ld-%lx.ipc",
                 (long)getpid(), (unsigned long)ts.tv_nsec);
        unlink(ipc_path);
        snprintf(addr, sizeof addr, "ipc://%s", ipc_path);
    }
    if (zmq_bind(s, addr) != 0) {
        char what[200];
        snprintf(what, sizeof what, "zmq_bind(%s)", addr);
        fail_call(what);
    }
    if (strcmp(transport, "tcp") == 0) {
        size_t len = out_len;
        if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, out, &len) != 0)
            fail_call("zmq_getsockopt(ZMQ_LAST_ENDPOINT)");
        if (len == 0 || len > out_len || out[len - 1] != '\0' ||
            strncmp(out, "tcp://", 6) != 0)
            fail(EXIT_API, "zmq_getsockopt(ZMQ_LAST_ENDPOINT)",
                 "unusable endpoint string");
    } else {
        snprintf(out, out_len, "%s", addr);
    }
}

static void connect_endpoint(void *s, const char *endpoint)
{
    if (zmq_connect(s, endpoint) != 0) {
        char what[300];
        snprintf(what, sizeof what, "zmq_connect(%s)", endpoint);
        fail_call(what);
    }
}

static void lib_version(char *out, size_t len)
{
    int major = 0, minor = 0, patch = 0;
    if (!zmq_version) {
        snprintf(out, len, "unknown");
        return;
    }
    zmq_version(&major, &minor, &patch);
    snprintf(out, len, "%d.%d.%d", major, minor, patch);
}

/* --------------------------------------------------------------- threads */

struct job {
    void *ctx;
    void *client_ctx;          /* latency-2ctx: the REQ's own context */
    char endpoint[256];
    size_t size;
    long count;
    double elapsed;            /* latency: set by the REQ thread */
    pthread_mutex_t lock;      /* throughput: the receiver sets done when it */
    pthread_cond_t cond;       /* has every message, and only then does the */
    int done;                  /* sender close its socket */
    int radio;                 /* draft rows: RADIO -> DISH, else CLIENT -> SERVER */
    int ready;                 /* radio-dish: the DISH has seen a probe */
};

/* Throughput senders: count messages of size bytes on s, each in `group`
 * unless NULL; `name` is the socket type for messages. */
static void send_count(struct job *job, void *s, const char *name, const char *group)
{
    for (long i = 0; i < job->count; i++) {
        zmq_msg_t msg;
        if (zmq_msg_init_size(&msg, job->size) != 0)
            fail_call("zmq_msg_init_size");
        if (job->size > 0)
            memset(zmq_msg_data(&msg), 'x', job->size < 8 ? job->size : 8);
        if (group && zmq_msg_set_group(&msg, group) != 0)
            fail_call("zmq_msg_set_group");
        if (zmq_msg_send(&msg, s, 0) < 0) {
            char what[96];
            snprintf(what, sizeof what, "zmq_msg_send (%s, after %ld of %ld)",
                     name, i, job->count);
            fail_call(what);
        }
    }
}

/* Throughput senders end here: wait until the receiver has everything, then
 * close s. */
static void wait_done_and_close(struct job *job, void *s)
{
    pthread_mutex_lock(&job->lock);
    while (!job->done)
        pthread_cond_wait(&job->cond, &job->lock);
    pthread_mutex_unlock(&job->lock);
    close_socket(s);
}

/* Throughput sender: connect PUSH and send count messages of size bytes. */
static void *push_thread(void *arg)
{
    struct job *job = arg;
    void *s = open_socket(job->ctx, ZMQ_PUSH, "ZMQ_PUSH", 0);
    connect_endpoint(s, job->endpoint);
    send_count(job, s, "PUSH", NULL);
    /* Do not close before the receiver has everything: with libzmq 4.3.4,
     * closing right after the last send (linger 10 s) lost the last 1k-20k
     * of 5M one-byte messages in about half the ipc and tcp runs. The
     * watchdog bounds this wait. */
    wait_done_and_close(job, s);
    return NULL;
}

/* Latency client: REQ sends, waits for the echo, count times; timed. */
static void *req_thread(void *arg)
{
    struct job *job = arg;
    void *s = open_socket(job->client_ctx ? job->client_ctx : job->ctx, ZMQ_REQ, "ZMQ_REQ", 0);
    connect_endpoint(s, job->endpoint);
    zmq_msg_t reply;
    if (zmq_msg_init(&reply) != 0)
        fail_call("zmq_msg_init");
    double start = 0;
    for (long i = 0; i < LAT_WARMUP + job->count; i++) {
        if (i == LAT_WARMUP)
            start = now_s();
        zmq_msg_t msg;
        if (zmq_msg_init_size(&msg, job->size) != 0)
            fail_call("zmq_msg_init_size");
        if (zmq_msg_send(&msg, s, 0) < 0)
            fail_call("zmq_msg_send (REQ)");
        int n = zmq_msg_recv(&reply, s, 0);
        if (n < 0)
            fail_call("zmq_msg_recv (REQ)");
        if ((size_t)n != job->size || zmq_msg_size(&reply) != job->size)
            fail(EXIT_API, "zmq_msg_recv (REQ)", "reply has the wrong size");
    }
    job->elapsed = now_s() - start;
    zmq_msg_close(&reply);
    close_socket(s);
    return NULL;
}

static void start_thread(pthread_t *t, void *(*fn)(void *), struct job *job)
{
    int rc = pthread_create(t, NULL, fn, job);
    if (rc != 0)
        fail(EXIT_API, "pthread_create", strerror(rc));
}

/* ------------------------------------------------------------------ runs */

/* A throughput run's job: size, count and a new context. */
static void job_init(struct job *job, size_t size, long count)
{
    memset(job, 0, sizeof *job);
    pthread_mutex_init(&job->lock, NULL);
    pthread_cond_init(&job->cond, NULL);
    job->size = size;
    job->count = count;
    job->ctx = zmq_ctx_new();
    if (!job->ctx)
        fail_call("zmq_ctx_new");
}

/* Receives count messages of size bytes on pull; returns the time from the
 * first to the last. */
static double recv_pulls(void *pull, size_t size, long count)
{
    zmq_msg_t msg;
    if (zmq_msg_init(&msg) != 0)
        fail_call("zmq_msg_init");
    double start = 0;
    for (long i = 0; i < count; i++) {
        int n = zmq_msg_recv(&msg, pull, 0);
        if (n < 0) {
            char what[96];
            snprintf(what, sizeof what, "zmq_msg_recv (PULL, after %ld of %ld)",
                     i, count);
            fail_call(what);
        }
        if ((size_t)n != size || zmq_msg_size(&msg) != size)
            fail(EXIT_API, "zmq_msg_recv (PULL)", "message has the wrong size");
        if (i == 0)
            start = now_s();
    }
    double elapsed = now_s() - start;
    zmq_msg_close(&msg);
    return elapsed;
}

/* Tells the sender the receiver has everything, joins it, closes the
 * receiving socket and the context. */
static void job_finish(struct job *job, pthread_t sender, void *recv_s)
{
    pthread_mutex_lock(&job->lock);
    job->done = 1;
    pthread_cond_signal(&job->cond);
    pthread_mutex_unlock(&job->lock);
    pthread_join(sender, NULL);
    close_socket(recv_s);
    if (zmq_ctx_term(job->ctx) != 0)
        fail_call("zmq_ctx_term");
    cleanup_ipc();
}

/* A throughput row's line; cpu < 0 leaves out cpu_s_per_M. */
static void print_throughput(size_t size, long count, double elapsed, double cpu)
{
    /* count-1 intervals between the first and the last message */
    long intervals = count > 1 ? count - 1 : 1;
    if (elapsed <= 0)
        elapsed = 1e-9;
    double mps = (double)intervals / elapsed;
    char ver[32];
    lib_version(ver, sizeof ver);
    printf("%s msgs=%ld elapsed_s=%.4f msg_per_s=%.0f mb_per_s=%.2f",
           cfg_label, count, elapsed, mps, mps * (double)size / 1e6);
    if (cpu >= 0)
        printf(" cpu_s_per_M=%.4f", cpu * 1e6 / (double)count);
    printf(" lib=%s\n", ver);
}

static void run_throughput(const char *transport, size_t size, long count)
{
    double cpu0 = cpu_s();
    struct job job;
    job_init(&job, size, count);

    void *pull = open_socket(job.ctx, ZMQ_PULL, "ZMQ_PULL", 0);
    bind_endpoint(pull, transport, "thr", job.endpoint, sizeof job.endpoint);

    pthread_t sender;
    start_thread(&sender, push_thread, &job);

    double elapsed = recv_pulls(pull, size, count);

    job_finish(&job, sender, pull);

    double cpu = cpu_s() - cpu0;

    print_throughput(size, count, elapsed, cpu);
}

static void run_latency(const char *transport, size_t size, long count, int two_ctx)
{
    pin_one_cpu();
    struct job job = {0};
    job.size = size;
    job.count = count;
    job.ctx = zmq_ctx_new();
    if (!job.ctx)
        fail_call("zmq_ctx_new");
    if (two_ctx && !(job.client_ctx = zmq_ctx_new()))
        fail_call("zmq_ctx_new");

    void *rep = open_socket(job.ctx, ZMQ_REP, "ZMQ_REP", 0);
    bind_endpoint(rep, transport, "lat", job.endpoint, sizeof job.endpoint);

    pthread_t client;
    start_thread(&client, req_thread, &job);

    /* Echo every request back, reusing the received message. */
    zmq_msg_t msg;
    if (zmq_msg_init(&msg) != 0)
        fail_call("zmq_msg_init");
    for (long i = 0; i < LAT_WARMUP + count; i++) {
        int n = zmq_msg_recv(&msg, rep, 0);
        if (n < 0)
            fail_call("zmq_msg_recv (REP)");
        if ((size_t)n != size)
            fail(EXIT_API, "zmq_msg_recv (REP)", "request has the wrong size");
        if (zmq_msg_send(&msg, rep, 0) < 0)
            fail_call("zmq_msg_send (REP)");
    }
    zmq_msg_close(&msg);

    pthread_join(client, NULL);
    close_socket(rep);
    if (job.client_ctx && zmq_ctx_term(job.client_ctx) != 0)
        fail_call("zmq_ctx_term");
    if (zmq_ctx_term(job.ctx) != 0)
        fail_call("zmq_ctx_term");
    cleanup_ipc();

    double rtt_us = job.elapsed * 1e6 / (double)count;
    char ver[32];
    lib_version(ver, sizeof ver);
    printf("%s roundtrips=%ld elapsed_s=%.4f latency_us=%.3f rtt_us=%.3f "
           "latency_kind=rtt/2 lib=%s\n",
           cfg_label, count, job.elapsed, rtt_us / 2, rtt_us, ver);
}

/* ---------------------------------------------------------------- fan-out */

/* fanout-N: one PUB, N SUBs (each in its own thread, subscribed to
 * everything), default high-water marks, ZMQ_XPUB_NODROP on the PUB. The publisher sends 1-byte probes
 * until every subscriber has seen one (the slow-joiner sync), then COUNT data
 * messages of SIZE bytes, then 1-byte end markers until every subscriber has
 * stopped. The figure is messages delivered: all subscribers' data messages
 * over the span from the first one received to the last one. */
#define FANOUT_MAX 256

struct fanout {
    void *ctx;
    char endpoint[256];
    size_t size;
    int subs;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int ready, done, connected;
    long received[FANOUT_MAX];
    double first[FANOUT_MAX], last[FANOUT_MAX];
};

struct fanout_sub {
    struct fanout *f;
    int index;
};

static void fanout_count(struct fanout *f, int *field)
{
    pthread_mutex_lock(&f->lock);
    (*field)++;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static int fanout_read(struct fanout *f, int *field)
{
    pthread_mutex_lock(&f->lock);
    int v = *field;
    pthread_mutex_unlock(&f->lock);
    return v;
}

static void *sub_thread(void *arg)
{
    struct fanout_sub *me = arg;
    struct fanout *f = me->f;
    void *s = open_socket(f->ctx, ZMQ_SUB, "ZMQ_SUB", 0);
    if (zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0) != 0)
        fail_call("zmq_setsockopt(ZMQ_SUBSCRIBE)");
    connect_endpoint(s, f->endpoint);
    fanout_count(f, &f->connected);
    zmq_msg_t msg;
    if (zmq_msg_init(&msg) != 0)
        fail_call("zmq_msg_init");
    int seen_probe = 0;
    long n = 0;
    double first = 0, last = 0;
    for (;;) {
        int len = zmq_msg_recv(&msg, s, 0);
        if (len < 0)
            fail_call("zmq_msg_recv (SUB)");
        const char *p = zmq_msg_data(&msg);
        if (len == 1 && p[0] == 'P') {
            if (!seen_probe) {
                seen_probe = 1;
                fanout_count(f, &f->ready);
            }
            continue;
        }
        if (len == 1 && p[0] == 'E')
            break;
        if ((size_t)len != f->size)
            fail(EXIT_API, "zmq_msg_recv (SUB)", "message has the wrong size");
        last = now_s();
        if (n++ == 0)
            first = last;
    }
    zmq_msg_close(&msg);
    f->received[me->index] = n;
    f->first[me->index] = first;
    f->last[me->index] = last;
    close_socket(s);
    fanout_count(f, &f->done);
    return NULL;
}

static void pub_marker(void *pub, char c)
{
    zmq_msg_t msg;
    if (zmq_msg_init_size(&msg, 1) != 0)
        fail_call("zmq_msg_init_size");
    *(char *)zmq_msg_data(&msg) = c;
    if (zmq_msg_send(&msg, pub, 0) < 0)
        fail_call("zmq_msg_send (PUB marker)");
}

static void run_fanout(const char *transport, int subs, size_t size, long count)
{
    if (subs < 1 || subs > FANOUT_MAX)
        fail(EXIT_API, "fanout", "subscriber count out of range");
    if (size < 2)
        fail(EXIT_API, "fanout", "size must be at least 2 (1-byte frames are markers)");
    double cpu0 = cpu_s();
    static struct fanout f;
    memset(&f, 0, sizeof f);
    pthread_mutex_init(&f.lock, NULL);
    pthread_cond_init(&f.cond, NULL);
    f.size = size;
    f.subs = subs;
    f.ctx = zmq_ctx_new();
    if (!f.ctx)
        fail_call("zmq_ctx_new");
    void *pub = open_socket(f.ctx, ZMQ_PUB, "ZMQ_PUB", 0);
    /* Lossless: a full subscriber pipe blocks the send (as PUSH's HWM does)
     * instead of dropping, so the figure is a throughput, not a drop rate. */
    set_int(pub, ZMQ_XPUB_NODROP, 1, "ZMQ_XPUB_NODROP");
    bind_endpoint(pub, transport, "fan", f.endpoint, sizeof f.endpoint);

    pthread_t threads[FANOUT_MAX];
    struct fanout_sub args[FANOUT_MAX];
    for (int i = 0; i < subs; i++) {
        args[i].f = &f;
        args[i].index = i;
        int rc = pthread_create(&threads[i], NULL, sub_thread, &args[i]);
        if (rc != 0)
            fail(EXIT_API, "pthread_create", strerror(rc));
    }
    /* Probes until every subscriber has one; the watchdog bounds this. */
    while (fanout_read(&f, &f.ready) < subs) {
        pub_marker(pub, 'P');
        usleep(1000);
    }
    for (long i = 0; i < count; i++) {
        zmq_msg_t msg;
        if (zmq_msg_init_size(&msg, size) != 0)
            fail_call("zmq_msg_init_size");
        memset(zmq_msg_data(&msg), 'x', size < 8 ? size : 8);
        if (zmq_msg_send(&msg, pub, 0) < 0)
            fail_call("zmq_msg_send (PUB)");
    }
    while (fanout_read(&f, &f.done) < subs) {
        pub_marker(pub, 'E');
        usleep(1000);
    }
    for (int i = 0; i < subs; i++)
        pthread_join(threads[i], NULL);
    close_socket(pub);
    if (zmq_ctx_term(f.ctx) != 0)
        fail_call("zmq_ctx_term");
    cleanup_ipc();
    double cpu = cpu_s() - cpu0;

    long total = 0;
    double first = 0, last = 0;
    for (int i = 0; i < subs; i++) {
        if (f.received[i] == 0)
            continue;
        if (total == 0 || f.first[i] < first)
            first = f.first[i];
        if (f.last[i] > last)
            last = f.last[i];
        total += f.received[i];
    }
    if (total < 2)
        fail(EXIT_API, "fanout", "subscribers received (almost) nothing");
    double elapsed = last - first;
    if (elapsed <= 0)
        elapsed = 1e-9;
    double mps = (double)(total - 1) / elapsed;
    char ver[32];
    lib_version(ver, sizeof ver);
    printf("%s subs=%d msgs=%ld delivered=%ld delivered_pct=%.1f elapsed_s=%.4f "
           "msg_per_s=%.0f mb_per_s=%.2f cpu_s_per_M=%.4f lib=%s\n",
           cfg_label, subs, count, total, 100.0 * (double)total / ((double)count * subs),
           elapsed, mps, mps * (double)size / 1e6, cpu * 1e6 / (double)total, ver);
}

/* ------------------------------------------------------ raw references */

/* What the hardware and kernel allow without any messaging library, for the
 * ratios in run.sh: ping-pong round trips of SIZE bytes over loopback TCP
 * (TCP_NODELAY), over a Unix stream socket pair (ipc), and an eventfd
 * hand-over between two threads (inproc); and a one-way loopback TCP stream
 * in SIZE-byte writes. Ping-pong is pinned to one CPU as the latency test. */
struct raw_job {
    int fd, fd2;               /* eventfd: fd pings, fd2 pongs */
    int eventfd;
    size_t size;
    long count;
};

static void xfer(int fd, char *buf, size_t len, int out)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = out ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
                        : recv(fd, buf + done, len - done, 0);
        if (n <= 0)
            fail(EXIT_API, out ? "send" : "recv", n == 0 ? "peer closed" : strerror(errno));
        done += (size_t)n;
    }
}

static void efd_wait(int fd)
{
    uint64_t v;
    if (read(fd, &v, sizeof v) != sizeof v)
        fail(EXIT_API, "read(eventfd)", strerror(errno));
}

static void efd_post(int fd)
{
    uint64_t v = 1;
    if (write(fd, &v, sizeof v) != sizeof v)
        fail(EXIT_API, "write(eventfd)", strerror(errno));
}

static void *raw_echo_thread(void *arg)
{
    struct raw_job *j = arg;
    char *buf = malloc(j->size ? j->size : 1);
    for (long i = 0; i < LAT_WARMUP + j->count; i++) {
        if (j->eventfd) {
            efd_wait(j->fd);
            efd_post(j->fd2);
        } else {
            xfer(j->fd2, buf, j->size, 0);
            xfer(j->fd2, buf, j->size, 1);
        }
    }
    free(buf);
    return NULL;
}

static void *raw_sink_thread(void *arg)
{
    struct raw_job *j = arg;
    char *buf = malloc(j->size);
    for (long i = 0; i < j->count; i++)
        xfer(j->fd2, buf, j->size, 0);
    free(buf);
    return NULL;
}

/* A connected loopback TCP pair in a[0] (client) and a[1] (accepted). */
static void tcp_pair(int a[2])
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    socklen_t len = sizeof sa;
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr *)&sa, &len) != 0)
        fail(EXIT_API, "tcp listen", strerror(errno));
    a[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (a[0] < 0 || connect(a[0], (struct sockaddr *)&sa, sizeof sa) != 0)
        fail(EXIT_API, "tcp connect", strerror(errno));
    a[1] = accept(l, NULL, NULL);
    if (a[1] < 0)
        fail(EXIT_API, "tcp accept", strerror(errno));
    close(l);
    int one = 1;
    setsockopt(a[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(a[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void run_raw_pingpong(const char *transport, size_t size, long count)
{
    pin_one_cpu();
    struct raw_job j = {0};
    int a[2];
    j.size = size;
    j.count = count;
    if (strcmp(transport, "inproc") == 0) {
        j.eventfd = 1;
        a[0] = eventfd(0, 0);
        a[1] = eventfd(0, 0);
        if (a[0] < 0 || a[1] < 0)
            fail(EXIT_API, "eventfd", strerror(errno));
        j.fd = a[0];
        j.fd2 = a[1];
    } else if (strcmp(transport, "tcp") == 0) {
        tcp_pair(a);
        j.fd2 = a[1];
    } else {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) != 0)
            fail(EXIT_API, "socketpair", strerror(errno));
        j.fd2 = a[1];
    }
    pthread_t t;
    int rc = pthread_create(&t, NULL, raw_echo_thread, &j);
    if (rc != 0)
        fail(EXIT_API, "pthread_create", strerror(rc));
    char *buf = malloc(size ? size : 1);
    memset(buf, 'x', size);
    double start = 0;
    for (long i = 0; i < LAT_WARMUP + count; i++) {
        if (i == LAT_WARMUP)
            start = now_s();
        if (j.eventfd) {
            efd_post(a[0]);
            efd_wait(a[1]);
        } else {
            xfer(a[0], buf, size, 1);
            xfer(a[0], buf, size, 0);
        }
    }
    double elapsed = now_s() - start;
    pthread_join(t, NULL);
    free(buf);
    close(a[0]);
    close(a[1]);
    double rtt_us = elapsed * 1e6 / (double)count;
    printf("%s roundtrips=%ld elapsed_s=%.4f latency_us=%.3f rtt_us=%.3f "
           "latency_kind=rtt/2 lib=none\n",
           cfg_label, count, elapsed, rtt_us / 2, rtt_us);
}

static void run_raw_stream(const char *transport, size_t size, long count)
{
    if (strcmp(transport, "tcp") != 0 || size == 0)
        usage();
    struct raw_job j = {0};
    int a[2];
    tcp_pair(a);
    j.fd2 = a[1];
    j.size = size;
    j.count = count;
    pthread_t t;
    int rc = pthread_create(&t, NULL, raw_sink_thread, &j);
    if (rc != 0)
        fail(EXIT_API, "pthread_create", strerror(rc));
    char *buf = malloc(size);
    memset(buf, 'x', size);
    double start = now_s();
    for (long i = 0; i < count; i++)
        xfer(a[0], buf, size, 1);
    pthread_join(t, NULL);
    double elapsed = now_s() - start;
    free(buf);
    close(a[0]);
    close(a[1]);
    if (elapsed <= 0)
        elapsed = 1e-9;
    double mps = (double)count / elapsed;
    printf("%s msgs=%ld elapsed_s=%.4f msg_per_s=%.0f mb_per_s=%.2f lib=none\n",
           cfg_label, count, elapsed, mps, mps * (double)size / 1e6);
}

/* ------------------------------------------------- draft thread-safe sockets */

/* client-server and radio-dish: throughput as run_throughput, with CLIENT ->
 * SERVER or RADIO -> DISH (joined to DRAFT_GROUP) in place of PUSH -> PULL;
 * the same output line. RADIO drops a message for a full pipe or for a DISH
 * whose join has not reached it yet, so it gets ZMQ_XPUB_NODROP (a full pipe
 * blocks the send instead) and sends 1-byte 'P' probes until the DISH has
 * received one; data messages start with 'x' (or are empty), so the receiver
 * tells them apart. */
#define DRAFT_GROUP "g"

static void *draft_send_thread(void *arg)
{
    struct job *job = arg;
    void *s = job->radio ? open_socket(job->ctx, ZMQ_RADIO, "ZMQ_RADIO", 0)
                         : open_socket(job->ctx, ZMQ_CLIENT, "ZMQ_CLIENT", 0);
    if (job->radio)
        set_int(s, ZMQ_XPUB_NODROP, 1, "ZMQ_XPUB_NODROP");
    connect_endpoint(s, job->endpoint);
    for (;;) {
        if (!job->radio)
            break;
        pthread_mutex_lock(&job->lock);
        int ready = job->ready;
        pthread_mutex_unlock(&job->lock);
        if (ready)
            break;
        zmq_msg_t probe;
        if (zmq_msg_init_size(&probe, 1) != 0)
            fail_call("zmq_msg_init_size");
        *(char *)zmq_msg_data(&probe) = 'P';
        if (zmq_msg_set_group(&probe, DRAFT_GROUP) != 0)
            fail_call("zmq_msg_set_group");
        if (zmq_msg_send(&probe, s, ZMQ_DONTWAIT) < 0) {
            if (last_errno() != EAGAIN)
                fail_call("zmq_msg_send (RADIO probe)");
            zmq_msg_close(&probe);
        }
        usleep(1000); /* the DISH's RCVTIMEO bounds this loop */
    }
    send_count(job, s, job->radio ? "RADIO" : "CLIENT", job->radio ? DRAFT_GROUP : NULL);
    /* As push_thread: close only once the receiver has everything. */
    wait_done_and_close(job, s);
    return NULL;
}

static void run_draft_throughput(const char *transport, int radio, size_t size,
                                 long count)
{
    if (radio) {
        NEED(zmq_join);
        NEED(zmq_msg_set_group);
    }
    double cpu0 = cpu_s();
    struct job job;
    job_init(&job, size, count);
    job.radio = radio;

    const char *rname = radio ? "DISH" : "SERVER";
    void *recv_s = radio ? open_socket(job.ctx, ZMQ_DISH, "ZMQ_DISH", 0)
                         : open_socket(job.ctx, ZMQ_SERVER, "ZMQ_SERVER", 0);
    if (radio && zmq_join(recv_s, DRAFT_GROUP) != 0)
        fail_call("zmq_join");
    bind_endpoint(recv_s, transport, radio ? "rd" : "cs", job.endpoint,
                  sizeof job.endpoint);

    pthread_t sender;
    start_thread(&sender, draft_send_thread, &job);

    zmq_msg_t msg;
    if (zmq_msg_init(&msg) != 0)
        fail_call("zmq_msg_init");
    double start = 0;
    for (long i = 0; i < count;) {
        int n = zmq_msg_recv(&msg, recv_s, 0);
        if (n < 0) {
            char what[96];
            snprintf(what, sizeof what, "zmq_msg_recv (%s, after %ld of %ld)",
                     rname, i, count);
            fail_call(what);
        }
        if (radio && i == 0 && n == 1 && *(char *)zmq_msg_data(&msg) == 'P') {
            pthread_mutex_lock(&job.lock);
            job.ready = 1;
            pthread_mutex_unlock(&job.lock);
            continue;
        }
        if ((size_t)n != size || zmq_msg_size(&msg) != size)
            fail(EXIT_API, "zmq_msg_recv", "message has the wrong size");
        if (i++ == 0)
            start = now_s();
    }
    double elapsed = now_s() - start;
    zmq_msg_close(&msg);

    job_finish(&job, sender, recv_s);

    double cpu = cpu_s() - cpu0;
    print_throughput(size, count, elapsed, cpu);
}

/* ----------------------------------------------------------------- CURVE */

/* libzmq's documented example key pairs (zmq_curve.adoc), as Z85 text. */
#define CURVE_SERVER_PUBLIC "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define CURVE_SERVER_SECRET "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
#define CURVE_CLIENT_PUBLIC "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
#define CURVE_CLIENT_SECRET "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"

static void set_key(void *s, int opt, const char *z85, const char *name)
{
    if (zmq_setsockopt(s, opt, z85, 40) != 0) {
        char what[64];
        snprintf(what, sizeof what, "zmq_setsockopt(%s)", name);
        fail_call(what);
    }
}

/* CURVE server or client options on s. No ZAP handler runs: libzmq's CURVE
 * server then accepts any client key, so only the handshake is measured. */
static void curve_socket(void *s, int server)
{
    if (server) {
        set_int(s, ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER");
        set_key(s, ZMQ_CURVE_SECRETKEY, CURVE_SERVER_SECRET, "ZMQ_CURVE_SECRETKEY");
    } else {
        set_key(s, ZMQ_CURVE_SERVERKEY, CURVE_SERVER_PUBLIC, "ZMQ_CURVE_SERVERKEY");
        set_key(s, ZMQ_CURVE_PUBLICKEY, CURVE_CLIENT_PUBLIC, "ZMQ_CURVE_PUBLICKEY");
        set_key(s, ZMQ_CURVE_SECRETKEY, CURVE_CLIENT_SECRET, "ZMQ_CURVE_SECRETKEY");
    }
}

/* curve-throughput sender: push_thread with a CURVE client socket. */
static void *curve_push_thread(void *arg)
{
    struct job *job = arg;
    void *s = open_socket(job->ctx, ZMQ_PUSH, "ZMQ_PUSH", 0);
    curve_socket(s, 0);
    connect_endpoint(s, job->endpoint);
    send_count(job, s, "PUSH", NULL);
    /* As push_thread: close only once the receiver has everything. */
    wait_done_and_close(job, s);
    return NULL;
}

/* run_throughput with CURVE on both ends; the same output line. */
static void run_curve_throughput(const char *transport, size_t size, long count)
{
    struct job job;
    job_init(&job, size, count);

    void *pull = open_socket(job.ctx, ZMQ_PULL, "ZMQ_PULL", 0);
    curve_socket(pull, 1);
    bind_endpoint(pull, transport, "cthr", job.endpoint, sizeof job.endpoint);

    pthread_t sender;
    start_thread(&sender, curve_push_thread, &job);

    double elapsed = recv_pulls(pull, size, count);

    job_finish(&job, sender, pull);

    print_throughput(size, count, elapsed, -1);
}

/* curve-handshake server: a CURVE ROUTER echoing every request until it has
 * answered count of them. */
struct echo_job {
    void *router;
    long count;
};

static void *curve_echo_thread(void *arg)
{
    struct echo_job *job = arg;
    void *router = job->router;
    zmq_msg_t id, body;
    for (long i = 0; i < job->count; i++) {
        if (zmq_msg_init(&id) != 0 || zmq_msg_init(&body) != 0)
            fail_call("zmq_msg_init");
        if (zmq_msg_recv(&id, router, 0) < 0)
            fail_call("zmq_msg_recv (ROUTER routing id)");
        if (!zmq_msg_more(&id))
            fail(EXIT_API, "zmq_msg_recv (ROUTER)", "request without a body");
        if (zmq_msg_recv(&body, router, 0) < 0)
            fail_call("zmq_msg_recv (ROUTER body)");
        if (zmq_msg_send(&id, router, ZMQ_SNDMORE) < 0 || zmq_msg_send(&body, router, 0) < 0)
            fail_call("zmq_msg_send (ROUTER)");
    }
    return NULL;
}

/* CURVE connections per second: each iteration opens a DEALER, connects,
 * does one round trip (which waits for the handshake) and closes it. */
static void run_curve_handshake(const char *transport, size_t size, long count)
{
    NEED(zmq_msg_more);
    /* A few untimed connections first, as the latency test warms up. */
    const long warmup = 10;
    struct job job = {0};
    job.count = count + warmup;
    job.ctx = zmq_ctx_new();
    if (!job.ctx)
        fail_call("zmq_ctx_new");
    void *router = open_socket(job.ctx, ZMQ_ROUTER, "ZMQ_ROUTER", 0);
    curve_socket(router, 1);
    bind_endpoint(router, transport, "chs", job.endpoint, sizeof job.endpoint);

    struct echo_job echo = {router, job.count};
    pthread_t server;
    int rc = pthread_create(&server, NULL, curve_echo_thread, &echo);
    if (rc != 0)
        fail(EXIT_API, "pthread_create", strerror(rc));

    zmq_msg_t reply;
    if (zmq_msg_init(&reply) != 0)
        fail_call("zmq_msg_init");
    double start = 0;
    for (long i = 0; i < job.count; i++) {
        if (i == warmup)
            start = now_s();
        void *s = open_socket(job.ctx, ZMQ_DEALER, "ZMQ_DEALER", 0);
        curve_socket(s, 0);
        connect_endpoint(s, job.endpoint);
        zmq_msg_t msg;
        if (zmq_msg_init_size(&msg, size) != 0)
            fail_call("zmq_msg_init_size");
        if (zmq_msg_send(&msg, s, 0) < 0)
            fail_call("zmq_msg_send (DEALER)");
        int n = zmq_msg_recv(&reply, s, 0);
        if (n < 0) {
            char what[96];
            snprintf(what, sizeof what, "zmq_msg_recv (DEALER, connection %ld of %ld)",
                     i + 1, job.count);
            fail_call(what);
        }
        if ((size_t)n != size)
            fail(EXIT_API, "zmq_msg_recv (DEALER)", "reply has the wrong size");
        close_socket(s);
    }
    double elapsed = now_s() - start;
    zmq_msg_close(&reply);

    pthread_join(server, NULL);
    close_socket(router);
    if (zmq_ctx_term(job.ctx) != 0)
        fail_call("zmq_ctx_term");
    cleanup_ipc();

    if (elapsed <= 0)
        elapsed = 1e-9;
    char ver[32];
    lib_version(ver, sizeof ver);
    printf("%s conns=%ld elapsed_s=%.4f conn_per_s=%.0f lib=%s\n",
           cfg_label, count, elapsed, (double)count / elapsed, ver);
}

/* ----------------------------------------------------------------- scale */

/* Lifts the soft descriptor limit to the hard one (10,000 connections need
 * more than the usual 1024). */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        fail(EXIT_API, "getrlimit(RLIMIT_NOFILE)", strerror(errno));
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        fail(EXIT_API, "setrlimit(RLIMIT_NOFILE)", strerror(errno));
}

/* Resident set of this process in KB (/proc/self/statm). */
static double rss_kb(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
        fail(EXIT_API, "/proc/self/statm", "unreadable");
    fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1024.0;
}

/* A ZMTP 3.0 peer that needs no library: the NULL greeting (RFC 23: signature,
 * version 3.0, mechanism "NULL", as-server 0, filler) and READY with
 * Socket-Type=DEALER, written in one go; then, once the ROUTER's READY has
 * come (libzmq fails the handshake on a message that arrives before it has
 * sent its own READY), one 1-byte message 'x' (zmtp_msg). */
static const unsigned char zmtp_hello[] = {
    0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f,               /* signature */
    3, 0,                                             /* version 3.0 */
    'N', 'U', 'L', 'L', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* mechanism (20) */
    0, 0, 0, 0, 0, 0,
    0,                                                /* as-server */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* filler (31) */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x04, 28, 5, 'R', 'E', 'A', 'D', 'Y',             /* READY command */
    11, 'S', 'o', 'c', 'k', 'e', 't', '-', 'T', 'y', 'p', 'e',
    0, 0, 0, 6, 'D', 'E', 'A', 'L', 'E', 'R',
};
static const unsigned char zmtp_msg[] = {0x00, 1, 'x'};

/* Connections the client keeps between connect() and the server's READY: at
 * most the listen backlog the ROUTER gets, so no SYN ever meets a full accept
 * queue (which would cost a 1 s retransmission). */
#define IDLE_WINDOW 256
#define IDLE_BACKLOG 1024

struct idle_conn {
    int fd;
    int got;            /* bytes of the server's greeting + READY read so far */
    int need;           /* their length, once the READY's size byte has come */
    int sent;
};

static void child_fail(const char *what, int e)
{
    char buf[200];
    int n = snprintf(buf, sizeof buf, "bench: idle-conns client: %s: %s\n", what,
                     e ? strerror(e) : "failed");
    if (write(STDERR_FILENO, buf, (size_t)n) < 0) { /* ignore */ }
    _exit(EXIT_API);
}

/* The forked client: reads the port from `cmd`, opens `n` connections (at most
 * IDLE_WINDOW still handshaking at a time), each sending zmtp_hello, reading
 * the ROUTER's greeting + READY and sending zmtp_msg; then keeps them open, idle, until `cmd` is
 * readable again (or closed), and resets them all (SO_LINGER 0: no TIME_WAIT). */
static void idle_client(int cmd, struct idle_conn *c, int n)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        _exit(EXIT_API);
    uint16_t port;
    if (read(cmd, &port, sizeof port) != sizeof port)
        _exit(0); /* the parent gave up before starting */
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    int ep = epoll_create1(0);
    if (ep < 0)
        child_fail("epoll_create1", errno);
    int started = 0, inflight = 0, done = 0;
    while (done < n) {
        while (started < n && inflight < IDLE_WINDOW) {
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (fd < 0)
                child_fail("socket", errno);
            if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS)
                child_fail("connect", errno);
            c[started] = (struct idle_conn){fd, 0, 0, 0};
            struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)started};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
                child_fail("epoll_ctl", errno);
            started++;
            inflight++;
        }
        struct epoll_event evs[256];
        int k = epoll_wait(ep, evs, 256, IO_TIMEOUT_MS);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            child_fail(k == 0 ? "no progress in 10 s" : "epoll_wait", k == 0 ? 0 : errno);
        for (int i = 0; i < k; i++) {
            struct idle_conn *x = &c[evs[i].data.u32];
            if (evs[i].events & (EPOLLERR | EPOLLHUP))
                child_fail("connection failed or closed by the ROUTER", 0);
            if (!x->sent && (evs[i].events & EPOLLOUT)) {
                if (write(x->fd, zmtp_hello, sizeof zmtp_hello) != (ssize_t)sizeof zmtp_hello)
                    child_fail("write", errno);
                x->sent = 1;
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[i].data.u32};
                if (epoll_ctl(ep, EPOLL_CTL_MOD, x->fd, &ev) != 0)
                    child_fail("epoll_ctl", errno);
            }
            if (!(evs[i].events & EPOLLIN))
                continue;
            unsigned char buf[256];
            ssize_t r;
            while ((r = read(x->fd, buf, sizeof buf)) > 0) {
                /* byte 65 is the short READY's size (flags 0x04 at 64) */
                if (x->got <= 65 && x->got + r > 65)
                    x->need = 66 + buf[65 - x->got];
                x->got += (int)r;
            }
            if (r == 0)
                child_fail("the ROUTER closed a connection", 0);
            if (errno != EAGAIN)
                child_fail("read", errno);
            if (x->need && x->got >= x->need) {
                if (write(x->fd, zmtp_msg, sizeof zmtp_msg) != (ssize_t)sizeof zmtp_msg)
                    child_fail("write", errno);
                epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
                inflight--;
                done++;
            }
        }
    }
    close(ep);
    char b;
    while (read(cmd, &b, 1) < 0 && errno == EINTR) {
    }
    struct linger lg = {1, 0};
    for (int i = 0; i < n; i++) {
        setsockopt(c[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(c[i].fd);
    }
    _exit(0);
}

/* idle-conns: `conns` raw ZMTP clients (a forked process: only the ROUTER's
 * side is in this one) connect to one ROUTER and each send one message; the
 * figures are the connections/s from telling the client to start until the
 * ROUTER has received every message, and the growth of this process's RSS
 * over that span per connection. */
static void run_idle_conns(const char *transport, int conns)
{
    if (strcmp(transport, "tcp") != 0)
        usage();
    raise_nofile();
    struct idle_conn *c = calloc((size_t)conns, sizeof *c);
    if (!c)
        fail(EXIT_API, "calloc", "out of memory");
    int cmd[2];
    if (pipe(cmd) != 0)
        fail(EXIT_API, "pipe", strerror(errno));
    fflush(NULL);
    /* Forked before any libzmq call, so the child is single-threaded. */
    pid_t pid = fork();
    if (pid < 0)
        fail(EXIT_API, "fork", strerror(errno));
    if (pid == 0) {
        close(cmd[1]);
        idle_client(cmd[0], c, conns);
    }
    child_pid = pid;
    close(cmd[0]);
    free(c);

    void *ctx = zmq_ctx_new();
    if (!ctx)
        fail_call("zmq_ctx_new");
    void *router = open_socket(ctx, ZMQ_ROUTER, "ZMQ_ROUTER", 0);
    set_int(router, ZMQ_BACKLOG, IDLE_BACKLOG, "ZMQ_BACKLOG");
    char endpoint[256];
    bind_endpoint(router, transport, "idle", endpoint, sizeof endpoint);
    const char *colon = strrchr(endpoint, ':');
    uint16_t port = (uint16_t)(colon ? atoi(colon + 1) : 0);
    if (port == 0)
        fail(EXIT_API, "ZMQ_LAST_ENDPOINT", "no port");

    zmq_msg_t id, body;
    if (zmq_msg_init(&id) != 0 || zmq_msg_init(&body) != 0)
        fail_call("zmq_msg_init");
    double rss0 = rss_kb();
    double cpu0 = cpu_s();
    double start = now_s();
    if (write(cmd[1], &port, sizeof port) != sizeof port)
        fail(EXIT_API, "write(pipe)", strerror(errno));
    for (int i = 0; i < conns; i++) {
        if (zmq_msg_recv(&id, router, 0) < 0 || zmq_msg_recv(&body, router, 0) < 0) {
            char what[96];
            snprintf(what, sizeof what, "zmq_msg_recv (ROUTER, after %d of %d connections)",
                     i, conns);
            fail_call(what);
        }
        if (zmq_msg_size(&body) != 1 || *(char *)zmq_msg_data(&body) != 'x')
            fail(EXIT_API, "zmq_msg_recv (ROUTER)", "unexpected message");
    }
    double elapsed = now_s() - start;
    double cpu = cpu_s() - cpu0;
    double rss1 = rss_kb();
    zmq_msg_close(&id);
    zmq_msg_close(&body);

    /* The client resets its connections and exits; the watchdog bounds it. */
    close(cmd[1]);
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            fail(EXIT_API, "waitpid", strerror(errno));
    }
    child_pid = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail(EXIT_API, "idle-conns client", "failed (see stderr)");
    close_socket(router);
    if (zmq_ctx_term(ctx) != 0)
        fail_call("zmq_ctx_term");

    if (elapsed <= 0)
        elapsed = 1e-9;
    char ver[32];
    lib_version(ver, sizeof ver);
    printf("%s conns=%d elapsed_s=%.4f conn_per_s=%.0f cpu_us_per_conn=%.1f rss_kb=%.0f "
           "kb_per_conn=%.2f lib=%s\n",
           cfg_label, conns, elapsed, (double)conns / elapsed, cpu * 1e6 / conns,
           rss1 - rss0, (rss1 - rss0) / conns, ver);
}

/* router-dealers: one ROUTER fed by `dealers` DEALERs, which RD_THREADS
 * threads share (each owns every RD_THREADS-th one and sends to its own in
 * turn, blocking on one whose pipe is full). Each DEALER first sends a 1-byte
 * probe; once the ROUTER has all of them, count messages of size bytes follow
 * (count / dealers per DEALER), timed at the ROUTER from its first data
 * message to the last. */
#define RD_THREADS 2

struct rd {
    void *ctx;
    char endpoint[256];
    int dealers;
    long per_dealer;
    size_t size;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int go, done;
};

struct rd_sender {
    struct rd *rd;
    int index;
};

static void rd_wait(struct rd *rd, int *flag)
{
    pthread_mutex_lock(&rd->lock);
    while (!*flag)
        pthread_cond_wait(&rd->cond, &rd->lock);
    pthread_mutex_unlock(&rd->lock);
}

static void rd_set(struct rd *rd, int *flag)
{
    pthread_mutex_lock(&rd->lock);
    *flag = 1;
    pthread_cond_broadcast(&rd->cond);
    pthread_mutex_unlock(&rd->lock);
}

static void rd_send(void *s, size_t size, char c)
{
    zmq_msg_t msg;
    if (zmq_msg_init_size(&msg, size) != 0)
        fail_call("zmq_msg_init_size");
    memset(zmq_msg_data(&msg), c, size < 8 ? size : 8);
    if (zmq_msg_send(&msg, s, 0) < 0)
        fail_call("zmq_msg_send (DEALER)");
}

static void *rd_sender_thread(void *arg)
{
    struct rd_sender *me = arg;
    struct rd *rd = me->rd;
    int mine = 0;
    void **s = calloc((size_t)rd->dealers / RD_THREADS + 1, sizeof *s);
    if (!s)
        fail(EXIT_API, "calloc", "out of memory");
    for (int i = me->index; i < rd->dealers; i += RD_THREADS) {
        s[mine] = open_socket(rd->ctx, ZMQ_DEALER, "ZMQ_DEALER", 0);
        connect_endpoint(s[mine], rd->endpoint);
        rd_send(s[mine], 1, 'P');
        mine++;
    }
    rd_wait(rd, &rd->go);
    for (long r = 0; r < rd->per_dealer; r++)
        for (int i = 0; i < mine; i++)
            rd_send(s[i], rd->size, 'x');
    rd_wait(rd, &rd->done);
    for (int i = 0; i < mine; i++)
        close_socket(s[i]);
    free(s);
    return NULL;
}

static void run_router_dealers(const char *transport, int dealers, long count)
{
    if (dealers < RD_THREADS)
        usage();
    NEED(zmq_ctx_set);
    raise_nofile();
    static struct rd rd;
    memset(&rd, 0, sizeof rd);
    pthread_mutex_init(&rd.lock, NULL);
    pthread_cond_init(&rd.cond, NULL);
    rd.dealers = dealers;
    rd.per_dealer = count / dealers > 0 ? count / dealers : 1;
    rd.size = 64;
    long total = rd.per_dealer * dealers;
    rd.ctx = zmq_ctx_new();
    if (!rd.ctx)
        fail_call("zmq_ctx_new");
    /* the default (1023) is just short of 1000 DEALERs + a ROUTER + slack */
    if (zmq_ctx_set(rd.ctx, ZMQ_MAX_SOCKETS, dealers + 64) != 0)
        fail_call("zmq_ctx_set(ZMQ_MAX_SOCKETS)");
    void *router = open_socket(rd.ctx, ZMQ_ROUTER, "ZMQ_ROUTER", 0);
    /* 1000 DEALERs connect at once: a full accept queue (libzmq's backlog is
     * 100) would drop SYNs and cost seconds of retransmissions. */
    set_int(router, ZMQ_BACKLOG, IDLE_BACKLOG, "ZMQ_BACKLOG");
    bind_endpoint(router, transport, "rd", rd.endpoint, sizeof rd.endpoint);

    pthread_t threads[RD_THREADS];
    struct rd_sender args[RD_THREADS];
    for (int i = 0; i < RD_THREADS; i++) {
        args[i] = (struct rd_sender){&rd, i};
        int rc = pthread_create(&threads[i], NULL, rd_sender_thread, &args[i]);
        if (rc != 0)
            fail(EXIT_API, "pthread_create", strerror(rc));
    }
    zmq_msg_t id, body;
    if (zmq_msg_init(&id) != 0 || zmq_msg_init(&body) != 0)
        fail_call("zmq_msg_init");
    for (int i = 0; i < dealers; i++) {
        if (zmq_msg_recv(&id, router, 0) < 0 || zmq_msg_recv(&body, router, 0) < 0)
            fail_call("zmq_msg_recv (ROUTER probe)");
        if (zmq_msg_size(&body) != 1)
            fail(EXIT_API, "zmq_msg_recv (ROUTER)", "data before every probe");
    }
    /* CPU of the data phase only: setting up 1000 connections is not a
     * per-message cost. */
    double cpu0 = cpu_s();
    rd_set(&rd, &rd.go);
    double start = 0;
    for (long i = 0; i < total; i++) {
        if (zmq_msg_recv(&id, router, 0) < 0 || zmq_msg_recv(&body, router, 0) < 0) {
            char what[96];
            snprintf(what, sizeof what, "zmq_msg_recv (ROUTER, after %ld of %ld)", i, total);
            fail_call(what);
        }
        if (zmq_msg_size(&body) != rd.size)
            fail(EXIT_API, "zmq_msg_recv (ROUTER)", "message has the wrong size");
        if (i == 0)
            start = now_s();
    }
    double elapsed = now_s() - start;
    double cpu = cpu_s() - cpu0;
    zmq_msg_close(&id);
    zmq_msg_close(&body);
    rd_set(&rd, &rd.done);
    for (int i = 0; i < RD_THREADS; i++)
        pthread_join(threads[i], NULL);
    close_socket(router);
    if (zmq_ctx_term(rd.ctx) != 0)
        fail_call("zmq_ctx_term");
    print_throughput(rd.size, total, elapsed, cpu);
}

/* sub-topics: one PUB (XPUB_NODROP, as fanout) and one SUB in another thread,
 * subscribed to `topics` distinct topics "topic-%05d". Setup: the SUB first
 * proves the connection with a "sync" subscription, then subscribes to every
 * topic; the PUB sends probes on the last topic, and setup ends when the SUB
 * gets one (subscriptions travel in order, so the PUB then filters with them
 * all). Then count messages of 64 bytes whose topics cycle through the
 * subscribed ones, every 4th on a topic nobody subscribed to ("other-%05d");
 * msg/s delivered at the SUB, from its first data message to the last. The
 * 12th byte tells data ('x'), probes ('P') and the end ('E') apart. */
#define ST_SIZE 64

struct st {
    void *ctx;
    char endpoint[256];
    int topics;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int connected, subscribed, done;
    long received;
    double first, last, setup_s;
};

static int st_read(struct st *st, int *flag)
{
    pthread_mutex_lock(&st->lock);
    int v = *flag;
    pthread_mutex_unlock(&st->lock);
    return v;
}

static void st_set(struct st *st, int *flag)
{
    pthread_mutex_lock(&st->lock);
    *flag = 1;
    pthread_mutex_unlock(&st->lock);
}

/* "topic-00042" into out (11 bytes, no terminator): by hand, since snprintf
 * per message cost the publishing thread more than the library did. */
static void st_topic(char *out, const char *prefix, int n)
{
    memcpy(out, prefix, 5);
    out[5] = '-';
    for (int i = 10; i >= 6; i--, n /= 10)
        out[i] = (char)('0' + n % 10);
}

static void st_subscribe(void *s, const char *topic)
{
    if (zmq_setsockopt(s, ZMQ_SUBSCRIBE, topic, strlen(topic)) != 0)
        fail_call("zmq_setsockopt(ZMQ_SUBSCRIBE)");
}

static void *st_sub_thread(void *arg)
{
    struct st *st = arg;
    void *s = open_socket(st->ctx, ZMQ_SUB, "ZMQ_SUB", 0);
    /* Subscriptions queue in the SUB's outbound pipe, and libzmq drops those
     * that find it at its high-water mark (1000 by default). */
    set_int(s, ZMQ_SNDHWM, 0, "ZMQ_SNDHWM");
    st_subscribe(s, "sync");
    connect_endpoint(s, st->endpoint);
    zmq_msg_t msg;
    if (zmq_msg_init(&msg) != 0)
        fail_call("zmq_msg_init");
    if (zmq_msg_recv(&msg, s, 0) < 0)
        fail_call("zmq_msg_recv (SUB, sync)");
    st_set(st, &st->connected);
    double t0 = now_s();
    char topic[12] = {0};
    for (int i = 0; i < st->topics; i++) {
        st_topic(topic, "topic", i);
        st_subscribe(s, topic);
    }
    long n = 0;
    double first = 0, last = 0;
    for (;;) {
        int len = zmq_msg_recv(&msg, s, 0);
        if (len < 0)
            fail_call("zmq_msg_recv (SUB)");
        const char *p = zmq_msg_data(&msg);
        if (len < 12 || memcmp(p, "topic-", 6) != 0)
            continue; /* a late "sync" */
        if (p[11] == 'P') {
            if (!st->setup_s) {
                st->setup_s = now_s() - t0;
                st_set(st, &st->subscribed);
            }
            continue;
        }
        if (p[11] == 'E')
            break;
        if (len != ST_SIZE)
            fail(EXIT_API, "zmq_msg_recv (SUB)", "message has the wrong size");
        last = now_s();
        if (n++ == 0)
            first = last;
    }
    zmq_msg_close(&msg);
    st->received = n;
    st->first = first;
    st->last = last;
    close_socket(s);
    st_set(st, &st->done);
    return NULL;
}

static void st_publish(void *pub, const char *prefix, int topic, char kind, size_t size)
{
    zmq_msg_t msg;
    if (zmq_msg_init_size(&msg, size) != 0)
        fail_call("zmq_msg_init_size");
    char *p = zmq_msg_data(&msg);
    memset(p, kind, size);
    st_topic(p, prefix, topic);
    if (zmq_msg_send(&msg, pub, 0) < 0)
        fail_call("zmq_msg_send (PUB)");
}

static void run_sub_topics(const char *transport, int topics, long count)
{
    if (topics < 1 || topics > 100000)
        usage();
    static struct st st;
    memset(&st, 0, sizeof st);
    pthread_mutex_init(&st.lock, NULL);
    pthread_cond_init(&st.cond, NULL);
    st.topics = topics;
    st.ctx = zmq_ctx_new();
    if (!st.ctx)
        fail_call("zmq_ctx_new");
    void *pub = open_socket(st.ctx, ZMQ_PUB, "ZMQ_PUB", 0);
    set_int(pub, ZMQ_XPUB_NODROP, 1, "ZMQ_XPUB_NODROP");
    bind_endpoint(pub, transport, "st", st.endpoint, sizeof st.endpoint);
    pthread_t sub;
    int rc = pthread_create(&sub, NULL, st_sub_thread, &st);
    if (rc != 0)
        fail(EXIT_API, "pthread_create", strerror(rc));
    /* The waits below are bounded by the SUB's RCVTIMEO and the watchdog. */
    while (!st_read(&st, &st.connected)) {
        zmq_msg_t msg;
        if (zmq_msg_init_size(&msg, 4) != 0)
            fail_call("zmq_msg_init_size");
        memcpy(zmq_msg_data(&msg), "sync", 4);
        if (zmq_msg_send(&msg, pub, 0) < 0)
            fail_call("zmq_msg_send (PUB sync)");
        usleep(1000);
    }
    while (!st_read(&st, &st.subscribed)) {
        st_publish(pub, "topic", topics - 1, 'P', 12);
        usleep(100);
    }
    /* CPU of the data phase (setup has its own figure) */
    double cpu0 = cpu_s();
    long expected = 0;
    for (long i = 0, t = 0; i < count; i++) {
        if (i % 4 == 3) {
            st_publish(pub, "other", (int)(i % topics), 'x', ST_SIZE);
        } else {
            st_publish(pub, "topic", (int)t, 'x', ST_SIZE);
            t = t + 1 == topics ? 0 : t + 1;
            expected++;
        }
    }
    while (!st_read(&st, &st.done)) {
        st_publish(pub, "topic", 0, 'E', 12);
        usleep(1000);
    }
    pthread_join(sub, NULL);
    double cpu = cpu_s() - cpu0;
    close_socket(pub);
    if (zmq_ctx_term(st.ctx) != 0)
        fail_call("zmq_ctx_term");
    if (st.received != expected) {
        char why[96];
        snprintf(why, sizeof why, "delivered %ld of %ld matching messages", st.received,
                 expected);
        fail(EXIT_API, "sub-topics", why);
    }
    double elapsed = st.last - st.first;
    if (elapsed <= 0)
        elapsed = 1e-9;
    double setup = st.setup_s > 0 ? st.setup_s : 1e-9;
    double mps = (double)(st.received - 1) / elapsed;
    char ver[32];
    lib_version(ver, sizeof ver);
    printf("%s msgs=%ld delivered=%ld elapsed_s=%.4f msg_per_s=%.0f mb_per_s=%.2f "
           "setup_s=%.4f subs_per_s=%.0f cpu_s_per_M=%.4f lib=%s\n",
           cfg_label, count, st.received, elapsed, mps, mps * ST_SIZE / 1e6, setup,
           (double)topics / setup, cpu * 1e6 / (double)count, ver);
}

/* ------------------------------------------------------------------- main */

/* --which: the version the library reports and the file actually mapped. */
static int which(void)
{
    char ver[32], line[4096], path[4096] = "unknown";
    lib_version(ver, sizeof ver);
    FILE *f = fopen("/proc/self/maps", "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            char *p = strchr(line, '/');
            if (p && strstr(p, "libzmq")) {
                p[strcspn(p, "\n")] = '\0';
                snprintf(path, sizeof path, "%s", p);
                break;
            }
        }
        fclose(f);
    }
    printf("version=%s path=%s\n", ver, path);
    return 0;
}

/* A count that takes on the order of a second with libzmq on a small
 * machine, used when none is given. */
static long default_count(const char *transport, const char *test, size_t size)
{
    int inproc = strcmp(transport, "inproc") == 0;
    if (strcmp(test, "curve-handshake") == 0)
        return 300;
    if (strcmp(test, "idle-conns") == 0)
        return 1; /* SIZE is the number of connections */
    if (strcmp(test, "router-dealers") == 0 || strcmp(test, "sub-topics") == 0)
        return 1000000;
    if (strcmp(test, "curve-throughput") == 0)
        return size <= 64 ? 300000 : 100000;
    if (strcmp(test, "latency") == 0 || strcmp(test, "raw-pingpong") == 0 ||
        strcmp(test, "latency-2ctx") == 0)
        return inproc ? 100000 : 20000;
    if (strncmp(test, "fanout-", 7) == 0)
        return 500000;
    if (size <= 64)
        return inproc ? 10000000 : 3000000;
    if (size <= 1024)
        return inproc ? 3000000 : 500000;
    return inproc ? 100000 : 40000;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench TRANSPORT TEST SIZE [COUNT]\n"
            "         TRANSPORT  inproc | tcp | ipc\n"
            "         TEST       throughput (PUSH->PULL) | latency (REQ<->REP)\n"
            "                    | latency-2ctx (REQ in its own context; tcp/ipc)\n"
            "                    | curve-throughput (PUSH->PULL, CURVE; tcp/ipc)\n"
            "                    | curve-handshake (CURVE connections/s; tcp/ipc)\n"
            "                    | fanout-N (PUB -> N SUBs, delivered msg/s)\n"
            "                    | raw-pingpong (no libzmq: tcp, unix socket,\n"
            "                      eventfd between threads for inproc)\n"
            "                    | raw-stream (no libzmq: loopback tcp, one way)\n"
            "                    | client-server (CLIENT->SERVER, draft API)\n"
            "                    | radio-dish (RADIO->DISH, group \"g\", draft API)\n"
            "                    | idle-conns (SIZE idle connections to a ROUTER:\n"
            "                      conn/s accepted, RSS KB per connection; tcp)\n"
            "                    | router-dealers (ROUTER fed by SIZE DEALERs; tcp)\n"
            "                    | sub-topics (PUB -> SUB subscribed to SIZE topics:\n"
            "                      delivered msg/s and subscription setup; tcp)\n"
            "         SIZE       message size in bytes\n"
            "         COUNT      messages (throughput) or round trips (latency)\n"
            "                    or connections (curve-handshake)\n"
            "       bench --which   print the loaded libzmq's version and path\n"
            "environment: BENCH_WATCHDOG_S limits one run (default %d s)\n",
            WATCHDOG_S);
    exit(64);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "--which") == 0)
        return which();
    if (argc < 4 || argc > 5)
        usage();

    const char *transport = argv[1], *test = argv[2];
    if (strcmp(transport, "inproc") && strcmp(transport, "tcp") &&
        strcmp(transport, "ipc"))
        usage();
    int curve = strcmp(test, "curve-throughput") == 0 ||
                strcmp(test, "curve-handshake") == 0;
    int fanout_subs = 0;
    if (strncmp(test, "fanout-", 7) == 0) {
        fanout_subs = atoi(test + 7);
        if (fanout_subs < 1 || fanout_subs > FANOUT_MAX)
            usage();
    }
    int raw = strcmp(test, "raw-pingpong") == 0 || strcmp(test, "raw-stream") == 0;
    int draft = strcmp(test, "client-server") == 0 || strcmp(test, "radio-dish") == 0;
    int scale = strcmp(test, "idle-conns") == 0 || strcmp(test, "router-dealers") == 0 ||
                strcmp(test, "sub-topics") == 0;
    int two_ctx = strcmp(test, "latency-2ctx") == 0;
    if (strcmp(test, "throughput") && strcmp(test, "latency") && !two_ctx && !curve &&
        !fanout_subs && !raw && !draft && !scale)
        usage();
    if (two_ctx && strcmp(transport, "inproc") == 0)
        usage(); /* inproc peers share a context */
    if (scale && strcmp(transport, "tcp") != 0)
        usage();
    if (curve && strcmp(transport, "inproc") == 0)
        usage();
    char *end;
    long size = strtol(argv[3], &end, 10);
    if (*end || size < 0 || size > (1L << 30))
        usage();
    long count = argc == 5 ? strtol(argv[4], &end, 10)
                           : default_count(transport, test, (size_t)size);
    if ((argc == 5 && *end) || count < 1)
        usage();

    snprintf(cfg_label, sizeof cfg_label, "%s %s %ld", transport, test, size);

    int limit = WATCHDOG_S;
    const char *env = getenv("BENCH_WATCHDOG_S");
    if (env && atoi(env) > 0)
        limit = atoi(env);
    snprintf(alarm_out, sizeof alarm_out, "ERROR watchdog: run exceeded %d s\n", limit);
    snprintf(alarm_err, sizeof alarm_err,
             "bench: %s: watchdog: run exceeded %d s\n", cfg_label, limit);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)limit);

    if (strcmp(test, "raw-pingpong") == 0) {
        run_raw_pingpong(transport, (size_t)size, count);
        return 0;
    }
    if (strcmp(test, "raw-stream") == 0) {
        run_raw_stream(transport, (size_t)size, count);
        return 0;
    }
    check_symbols();
    if (strcmp(test, "idle-conns") == 0)
        run_idle_conns(transport, (int)size);
    else if (strcmp(test, "router-dealers") == 0)
        run_router_dealers(transport, (int)size, count);
    else if (strcmp(test, "sub-topics") == 0)
        run_sub_topics(transport, (int)size, count);
    else if (draft)
        run_draft_throughput(transport, strcmp(test, "radio-dish") == 0,
                             (size_t)size, count);
    else if (fanout_subs)
        run_fanout(transport, fanout_subs, (size_t)size, count);
    else if (strcmp(test, "curve-throughput") == 0)
        run_curve_throughput(transport, (size_t)size, count);
    else if (strcmp(test, "curve-handshake") == 0)
        run_curve_handshake(transport, (size_t)size, count);
    else if (strcmp(test, "throughput") == 0)
        run_throughput(transport, (size_t)size, count);
    else
        run_latency(transport, (size_t)size, count, two_ctx);
    return 0;
}
