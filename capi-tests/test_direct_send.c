/*  Request-reply over tcp and ipc with each peer in a context of its own (as two processes
    are): after a connection has received, the application's thread writes the next
    message to it itself instead of waking the I/O thread; and a thread blocked in a
    receive (or a poll for input) on a socket's one connection reads that connection
    itself. Nothing may tell
    the paths apart but time: contents and order survive messages too large for the
    socket buffer (the rest goes on from the I/O thread), multipart replies, bursts mixed
    with replies, CURVE, a peer that goes away mid-exchange, a reader that stops reading
    for a while, a receiver at its HWM, heartbeats while the receiver is blocked, a
    receive that times out (after which the I/O thread watches the connection again), and
    waits in zmq_poll and zmq_poller_wait.  */
#define ZMQ_BUILD_DRAFT_API
#include "netutil.h"
#include "refutil.h"
#include <poll.h>
#include <pthread.h>

/*  Debian's libzmq exports no zmq_poller_*: built against it, the REQ waits with zmq_poll
    instead.  */
#ifdef LIBZMQ_REFERENCE
#define DRAFT_FNS 0
#else
#define DRAFT_FNS 1
#endif

/*  Waits up to 10 s for input on `s`: with a zmq_poller when there is one.  */
static void wait_in (void *poller, void *s)
{
#if DRAFT_FNS
    zmq_poller_event_t ev;
    TEST_ASSERT (zmq_poller_wait (poller, &ev, 10000) == 0);
    TEST_ASSERT (ev.socket == s && ev.events == ZMQ_POLLIN);
#else
    (void) poller;
    zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
    TEST_ASSERT (zmq_poll (&item, 1, 10000) == 1 && item.revents == ZMQ_POLLIN);
#endif
}

/*  Two peers, each in a context of its own (as two processes are): `a` binds, `b`
    connects. Neither lingers; receives wait up to a minute (valgrind is slow).  */
struct pair {
    void *ctx_a, *ctx_b, *a, *b;
};

static struct pair open_pair (int type_a, int type_b)
{
    struct pair p;
    p.ctx_a = zmq_ctx_new ();
    p.ctx_b = zmq_ctx_new ();
    TEST_ASSERT (p.ctx_a && p.ctx_b);
    p.a = new_socket (p.ctx_a, type_a);
    p.b = new_socket (p.ctx_b, type_b);
    set_int (p.a, ZMQ_RCVTIMEO, 60000);
    set_int (p.b, ZMQ_RCVTIMEO, 60000);
    return p;
}

/*  `a` binds to `base`, `b` connects to the endpoint it got.  */
static void join_pair (struct pair *p, const char *base)
{
    char ep[256];
    bind_at (p->a, base, ep, sizeof ep);
    TEST_OK (zmq_connect (p->b, ep));
}

static void close_pair (struct pair *p)
{
    TEST_OK (zmq_close (p->b));
    TEST_OK (zmq_close (p->a));
    TEST_OK (zmq_ctx_term (p->ctx_b));
    TEST_OK (zmq_ctx_term (p->ctx_a));
}

static void fill (char *buf, size_t size, unsigned seed)
{
    for (size_t i = 0; i < size; i++)
        buf[i] = (char) (seed * 31 + i * 7);
}

static void recv_check (void *s, size_t size, unsigned seed, int more)
{
    zmq_msg_t msg;
    TEST_OK (zmq_msg_init (&msg));
    TEST_ASSERT (zmq_msg_recv (&msg, s, 0) == (int) size);
    TEST_ASSERT (zmq_msg_more (&msg) == more);
    const char *data = (const char *) zmq_msg_data (&msg);
    for (size_t i = 0; i < size; i++)
        TEST_ASSERT (data[i] == (char) (seed * 31 + i * 7));
    TEST_OK (zmq_msg_close (&msg));
}

/*  Sizes from one byte to beyond any loopback socket buffer, so that some direct writes
    come back short and the I/O thread finishes them.  */
static size_t size_of (unsigned i)
{
    static const size_t sizes[] = {1, 0, 64, 1000, 8192, 70000, 3, 600000, 29, 1 << 20};
    return sizes[i % (sizeof sizes / sizeof sizes[0])];
}

/*  CURVE between `server` and `client`, with fresh keys.  */
static void use_curve (void *server, void *client)
{
    char pub[41], sec[41], cpub[41], csec[41];
    TEST_OK (zmq_curve_keypair (pub, sec));
    TEST_OK (zmq_curve_keypair (cpub, csec));
    set_int (server, ZMQ_CURVE_SERVER, 1);
    TEST_OK (zmq_setsockopt (server, ZMQ_CURVE_SECRETKEY, sec, 40));
    TEST_OK (zmq_setsockopt (client, ZMQ_CURVE_SERVERKEY, pub, 40));
    TEST_OK (zmq_setsockopt (client, ZMQ_CURVE_PUBLICKEY, cpub, 40));
    TEST_OK (zmq_setsockopt (client, ZMQ_CURVE_SECRETKEY, csec, 40));
}

/*  REQ/REP: each reply has two parts, the request's size and content echoed back.  */
static void reqrep (const char *base, int curve)
{
    struct pair p = open_pair (ZMQ_REP, ZMQ_REQ);
    void *rep = p.a, *req = p.b;
    if (curve)
        use_curve (rep, req);
    join_pair (&p, base);
    char *buf = malloc (1 << 20);
    TEST_ASSERT (buf);
    int rounds = curve ? 10 : 40;
    for (int i = 0; i < rounds; i++) {
        size_t size = size_of ((unsigned) i);
        if (curve && size > 70000)
            size = 70000; /* encryption under valgrind is slow enough */
        fill (buf, size, (unsigned) i);
        TEST_ASSERT (zmq_send (req, buf, size, 0) == (int) size);
        recv_check (rep, size, (unsigned) i, 0);
        uint32_t n = (uint32_t) size;
        TEST_ASSERT (zmq_send (rep, &n, sizeof n, ZMQ_SNDMORE) == (int) sizeof n);
        TEST_ASSERT (zmq_send (rep, buf, size, 0) == (int) size);
        uint32_t got = 0;
        TEST_ASSERT (zmq_recv (req, &got, sizeof got, 0) == (int) sizeof got);
        TEST_ASSERT (got == n);
        recv_check (req, size, (unsigned) i, 0);
    }
    free (buf);
    close_pair (&p);
}

/*  DEALER to ROUTER: each round the dealer sends a burst of numbered messages, the router
    answers the last one, and the dealer's next burst starts after the answer (its first
    message goes out directly, the rest queue behind it). Every number arrives once, in
    order, on both sides.  */
static void bursts (const char *base)
{
    struct pair p = open_pair (ZMQ_ROUTER, ZMQ_DEALER);
    void *router = p.a, *dealer = p.b;
    join_pair (&p, base);
    uint32_t next_out = 0, next_in = 0;
    for (int round = 0; round < 40; round++) {
        int burst = 1 + round % 17;
        for (int k = 0; k < burst; k++) {
            TEST_ASSERT (zmq_send (dealer, &next_out, sizeof next_out, 0) == 4);
            next_out++;
        }
        char id[256];
        int id_len = 0;
        for (int k = 0; k < burst; k++) {
            id_len = zmq_recv (router, id, sizeof id, 0);
            TEST_ASSERT (id_len > 0);
            uint32_t v;
            TEST_ASSERT (zmq_recv (router, &v, sizeof v, 0) == 4);
            TEST_ASSERT (v == next_in);
            next_in++;
        }
        /*  The answer: the last number, then a run of replies the dealer counts.  */
        for (int k = 0; k < 1 + round % 5; k++) {
            TEST_ASSERT (zmq_send (router, id, (size_t) id_len, ZMQ_SNDMORE) == id_len);
            uint32_t v = next_in * 100 + (uint32_t) k;
            TEST_ASSERT (zmq_send (router, &v, sizeof v, 0) == 4);
        }
        for (int k = 0; k < 1 + round % 5; k++) {
            uint32_t v;
            TEST_ASSERT (zmq_recv (dealer, &v, sizeof v, 0) == 4);
            TEST_ASSERT (v == next_out * 100 + (uint32_t) k);
        }
    }
    close_pair (&p);
}

/*  The REP side goes away between a request and its reply: the next request (a direct
    write, the connection having just received) meets a dead connection, which ends as
    any other does (DISCONNECTED) and the REQ reconnects to a new REP.  */
static void peer_gone (const char *base)
{
    struct pair p = open_pair (ZMQ_REP, ZMQ_REQ);
    void *req = p.b;
    set_int (req, ZMQ_RECONNECT_IVL, 20);
    set_int (req, ZMQ_REQ_RELAXED, 1);
    char ep[256];
    bind_at (p.a, base, ep, sizeof ep);
    void *mon = monitor_open (p.ctx_b, req, "inproc://direct-mon", ZMQ_EVENT_DISCONNECTED);
    TEST_OK (zmq_connect (req, ep));
    char buf[16];
    for (int i = 0; i < 3; i++) {
        TEST_ASSERT (zmq_send (req, "ping", 4, 0) == 4);
        TEST_ASSERT (zmq_recv (p.a, buf, sizeof buf, 0) == 4);
        TEST_ASSERT (zmq_send (p.a, "pong", 4, 0) == 4);
        TEST_ASSERT (zmq_recv (req, buf, sizeof buf, 0) == 4);
    }
    TEST_OK (zmq_close (p.a));
    /*  Writes into the closed connection until it is known to be gone.  */
    TEST_ASSERT (zmq_send (req, "lost", 4, 0) == 4);
    expect_event_skip (mon, ZMQ_EVENT_DISCONNECTED, 0, 60000, NULL, 0);
    /*  A new REP on the same endpoint: the REQ reconnects and the exchange goes on.  */
    p.a = new_socket (p.ctx_a, ZMQ_REP);
    void *rep = p.a;
    set_int (rep, ZMQ_RCVTIMEO, 60000);
    /*  The old listener closes on its I/O thread after zmq_close returns: the address
        may be taken for a moment.  */
    long deadline = now_ms () + 5000;
    while (zmq_bind (rep, ep) != 0) {
        TEST_ASSERT (errno == EADDRINUSE && now_ms () < deadline);
        struct timespec pause = {0, 1000000};
        nanosleep (&pause, NULL);
    }
    TEST_ASSERT (zmq_send (req, "again", 5, 0) == 5);
    /*  "lost" may have stayed queued (the connection was gone before it was written):
        then it is the request the new REP sees, and its echo the reply.  */
    int n = zmq_recv (rep, buf, sizeof buf, 0);
    TEST_ASSERT ((n == 5 && memcmp (buf, "again", 5) == 0)
                 || (n == 4 && memcmp (buf, "lost", 4) == 0));
    TEST_ASSERT (zmq_send (rep, buf, (size_t) n, 0) == n);
    int m = zmq_recv (req, buf + 8, 8, 0);
    TEST_ASSERT (m == n && memcmp (buf, buf + 8, (size_t) n) == 0);
    TEST_OK (zmq_close (mon));
    close_pair (&p);
}

/*  The REP goes away while the REQ's thread is blocked in zmq_recv, watching the
    connection itself: the hang-up is seen at once (DISCONNECTED, from the I/O thread,
    while the receive still waits), and the receive ends on its own time-out.  */
static void gone_while_blocked (const char *base)
{
    struct pair p = open_pair (ZMQ_REP, ZMQ_REQ);
    void *rep = p.a, *req = p.b;
    char ep[256];
    bind_at (rep, base, ep, sizeof ep);
    void *mon = monitor_open (p.ctx_b, req, "inproc://direct-gone", ZMQ_EVENT_DISCONNECTED);
    TEST_OK (zmq_connect (req, ep));
    send_str (req, "ping");
    recv_str (rep, "ping");
    set_int (req, ZMQ_RCVTIMEO, 2500);
    struct blocker b = {req, 0, 0};
    pthread_t t;
    TEST_ASSERT (pthread_create (&t, NULL, block_in_recv, &b) == 0);
    /*  Let it block; the case holds (more slowly) if it had not yet.  */
    struct timespec pause = {0, 100000000};
    nanosleep (&pause, NULL);
    long start = now_ms ();
    TEST_OK (zmq_close (rep));
    expect_event_skip (mon, ZMQ_EVENT_DISCONNECTED, 0, 2000, NULL, 0);
    TEST_ASSERT (now_ms () - start < 2000);
    TEST_ASSERT (pthread_join (t, NULL) == 0);
    TEST_ASSERT (b.rc == -1 && b.err == EAGAIN);
    p.a = new_socket (p.ctx_a, ZMQ_REP); /* for close_pair */
    TEST_OK (zmq_close (mon));
    close_pair (&p);
}

/*  A reader that does not read for a while: the sender's writes fill the socket buffer
    and wait for room, which only the writable event it then asks the reactor for brings.
    Every message still arrives, in order, once the reader reads.  */
static void slow_reader (const char *base)
{
    struct pair p = open_pair (ZMQ_PULL, ZMQ_PUSH);
    void *pull = p.a, *push = p.b;
    join_pair (&p, base);
    enum { count = 200, size = 65536 };
    char *buf = malloc (size);
    TEST_ASSERT (buf);
    for (unsigned i = 0; i < count; i++) {
        fill (buf, size, i);
        TEST_ASSERT (zmq_send (push, buf, size, 0) == size);
    }
    /*  Long enough for the sender's I/O thread to fill the buffers and wait.  */
    struct timespec pause = {0, 200000000};
    nanosleep (&pause, NULL);
    for (unsigned i = 0; i < count; i++)
        recv_check (pull, size, i, 0);
    free (buf);
    close_pair (&p);
}

/*  The REQ blocks in a receive for longer than its heartbeat time-out while the REP
    takes its time: the peers' PINGs and PONGs go on meanwhile, whichever thread reads
    them, and the connection stays up.  */
static void heartbeats (const char *base)
{
    struct pair p = open_pair (ZMQ_REP, ZMQ_REQ);
    void *rep = p.a, *req = p.b;
    set_int (req, ZMQ_HEARTBEAT_IVL, 30);
    set_int (req, ZMQ_HEARTBEAT_TIMEOUT, 150);
    set_int (rep, ZMQ_HEARTBEAT_IVL, 30);
    set_int (rep, ZMQ_HEARTBEAT_TIMEOUT, 150);
    char ep[256];
    bind_at (rep, base, ep, sizeof ep);
    void *mon = monitor_open (p.ctx_b, req, "inproc://direct-hb", ZMQ_EVENT_DISCONNECTED);
    TEST_OK (zmq_connect (req, ep));
    for (int i = 0; i < 3; i++) {
        send_str (req, "slow?");
        recv_str (rep, "slow?");
        /*  The REQ waits in zmq_recv (below, from the start) while the REP sleeps.  */
        set_int (req, ZMQ_RCVTIMEO, 600);
        TEST_FAIL (zmq_recv (req, (char[8]){0}, 8, 0), EAGAIN);
        send_str (rep, "done");
        recv_str (req, "done");
    }
    expect_no_event (mon, 100);
    TEST_OK (zmq_close (mon));
    close_pair (&p);
}

/*  A receive that times out hands the connection back to its I/O thread: a reply that
    comes after it is read there and signalled on ZMQ_FD, which is polled with plain
    poll(2) (zmq_poll would read the connection itself).  */
static void timeout_then_fd (const char *base)
{
    struct pair p = open_pair (ZMQ_REP, ZMQ_REQ);
    void *rep = p.a, *req = p.b;
    join_pair (&p, base);
    int fd;
    size_t len = sizeof fd;
    TEST_OK (zmq_getsockopt (req, ZMQ_FD, &fd, &len));
    for (int i = 0; i < 20; i++) {
        send_str (req, "q");
        recv_str (rep, "q");
        set_int (req, ZMQ_RCVTIMEO, 5);
        TEST_FAIL (zmq_recv (req, (char[8]){0}, 8, 0), EAGAIN);
        send_str (rep, "a");
        long deadline = now_ms () + 10000;
        while (!(get_int (req, ZMQ_EVENTS) & ZMQ_POLLIN)) {
            TEST_ASSERT (now_ms () < deadline);
            struct pollfd pfd = {fd, POLLIN, 0};
            TEST_ASSERT (poll (&pfd, 1, 1000) >= 0);
        }
        recv_str (req, "a");
    }
    close_pair (&p);
}

/*  A receiver with a small HWM, blocked while a sender streams: what it reads itself
    meets the HWM like anything the I/O thread reads (the decoder stops at a full pipe and
    goes on from its buffer later), and every message arrives once, whole, in order. The
    sender sends up to 30 messages of one to three parts at a time, without blocking
    after the first, until the HWMs and buffers hold no more; then everything sent is
    read.  */
static size_t part_size (unsigned m, unsigned j)
{
    return 1 + (m * 37 + j * 101) % 2048;
}

static void hwm_stream (const char *base, int curve)
{
    struct pair p = open_pair (ZMQ_PULL, ZMQ_PUSH);
    void *pull = p.a, *push = p.b;
    if (curve)
        use_curve (pull, push);
    set_int (pull, ZMQ_RCVHWM, 4);
    set_int (push, ZMQ_SNDHWM, 4);
    join_pair (&p, base);
    /*  Fewer under CURVE: encryption under valgrind is slow.  */
    unsigned count = curve ? 300 : 2000;
    char buf[2048];
    unsigned sent = 0, received = 0;
    while (received < count) {
        int full = 0;
        for (int k = 0; k < 30 && sent < count && !full; k++) {
            unsigned parts = 1 + sent % 3;
            for (unsigned j = 0; j < parts && !full; j++) {
                size_t size = part_size (sent, j);
                fill (buf, size, sent * 4 + j);
                int flags = j + 1 < parts ? ZMQ_SNDMORE : 0;
                /*  The first part of a batch may wait (for the connection, at the start):
                    all sent before it has been read. Once a first part is taken, the
                    rest of its message is too.  */
                if (j == 0 && k > 0)
                    flags |= ZMQ_DONTWAIT;
                int rc = zmq_send (push, buf, size, flags);
                if (rc == -1) {
                    TEST_ASSERT (j == 0 && errno == EAGAIN);
                    full = 1;
                    continue;
                }
                TEST_ASSERT (rc == (int) size);
                if (j + 1 == parts)
                    sent++;
            }
        }
        TEST_ASSERT (sent > received);
        for (; received < sent; received++) {
            unsigned parts = 1 + received % 3;
            for (unsigned j = 0; j < parts; j++)
                recv_check (pull, part_size (received, j), received * 4 + j, j + 1 < parts);
        }
    }
    close_pair (&p);
}

/*  Both peers wait with zmq_poll (the REP also with a plain pipe in its items) or a
    zmq_poller before each receive: a wait for input watches the connection itself and
    reads what comes. The pipe is reported when written, and only then.  */
static void polled (const char *base)
{
    struct pair p = open_pair (ZMQ_REP, ZMQ_REQ);
    void *rep = p.a, *req = p.b;
    join_pair (&p, base);
    int fds[2];
    TEST_ASSERT (pipe (fds) == 0);
    void *poller = NULL;
#if DRAFT_FNS
    poller = zmq_poller_new ();
    TEST_ASSERT (poller);
    TEST_OK (zmq_poller_add (poller, req, NULL, ZMQ_POLLIN));
#endif
    char *buf = malloc (1 << 20);
    TEST_ASSERT (buf);
    for (int i = 0; i < 60; i++) {
        size_t size = size_of ((unsigned) i);
        fill (buf, size, (unsigned) i);
        TEST_ASSERT (zmq_send (req, buf, size, 0) == (int) size);
        if (i == 30)
            TEST_ASSERT (write (fds[1], "x", 1) == 1);
        /*  The request may be seen in the same wait as the pipe, or after it.  */
        zmq_pollitem_t items[2] = {{rep, 0, ZMQ_POLLIN, 0}, {NULL, fds[0], ZMQ_POLLIN, 0}};
        int pipe_seen = 0;
        while (!(items[0].revents & ZMQ_POLLIN)) {
            int n = zmq_poll (items, 2, 10000);
            TEST_ASSERT (n >= 1);
            if (items[1].revents) {
                TEST_ASSERT (i == 30 && !pipe_seen && items[1].revents == ZMQ_POLLIN);
                char c;
                TEST_ASSERT (read (fds[0], &c, 1) == 1);
                pipe_seen = 1;
            }
        }
        TEST_ASSERT (items[0].revents == ZMQ_POLLIN);
        if (i == 30 && !pipe_seen) {
            TEST_ASSERT (zmq_poll (items + 1, 1, 10000) == 1 && items[1].revents == ZMQ_POLLIN);
            char c;
            TEST_ASSERT (read (fds[0], &c, 1) == 1);
        }
        recv_check (rep, size, (unsigned) i, 0);
        TEST_ASSERT (zmq_send (rep, buf, size, 0) == (int) size);
        wait_in (poller, req);
        recv_check (req, size, (unsigned) i, 0);
    }
    /*  Nothing comes: the waits end on time, and the connection still works after.  */
    zmq_pollitem_t item = {req, 0, ZMQ_POLLIN, 0};
    TEST_ASSERT (zmq_poll (&item, 1, 20) == 0);
#if DRAFT_FNS
    zmq_poller_event_t ev;
    TEST_ASSERT (zmq_poller_wait (poller, &ev, 20) == -1 && errno == EAGAIN);
#endif
    send_str (req, "last");
    recv_str (rep, "last");
    send_str (rep, "done");
    recv_str (req, "done");
#if DRAFT_FNS
    TEST_OK (zmq_poller_destroy (&poller));
#endif
    close (fds[0]);
    close (fds[1]);
    free (buf);
    close_pair (&p);
}

int main (void)
{
    ref_setup (300);
    reqrep ("tcp://127.0.0.1:*", 0);
    reqrep ("ipc://*", 0);
    reqrep ("tcp://127.0.0.1:*", 1);
    bursts ("tcp://127.0.0.1:*");
    bursts ("ipc://*");
    peer_gone ("tcp://127.0.0.1:*");
    slow_reader ("tcp://127.0.0.1:*");
    slow_reader ("ipc://*");
    heartbeats ("tcp://127.0.0.1:*");
    timeout_then_fd ("tcp://127.0.0.1:*");
    timeout_then_fd ("ipc://*");
    hwm_stream ("tcp://127.0.0.1:*", 0);
    hwm_stream ("ipc://*", 0);
    hwm_stream ("tcp://127.0.0.1:*", 1);
    polled ("tcp://127.0.0.1:*");
    polled ("ipc://*");
    gone_while_blocked ("tcp://127.0.0.1:*");
    gone_while_blocked ("ipc://*");
    return 0;
}
