/*  zmq_poll, ZMQ_FD/ZMQ_EVENTS, blocking with EINTR and ETERM, context termination,
    socket limits and proxies.  */
#include "testutil.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

static long now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_poll_sockets_and_fds (void *ctx)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    TEST_OK (zmq_bind (a, "inproc://poll"));
    TEST_OK (zmq_connect (b, "inproc://poll"));
    int fds[2];
    TEST_ASSERT (pipe (fds) == 0);

    zmq_pollitem_t items[] = {{a, 0, ZMQ_POLLIN, 0}, {NULL, fds[0], ZMQ_POLLIN, 0}};
    TEST_ASSERT (zmq_poll (items, 2, 0) == 0);
    long t0 = now_ms ();
    TEST_ASSERT (zmq_poll (items, 2, 100) == 0);
    long dt = now_ms () - t0;
    TEST_ASSERT (dt >= 90 && dt < 2000);

    TEST_ASSERT (zmq_send (b, "x", 1, 0) == 1);
    TEST_ASSERT (zmq_poll (items, 2, 1000) == 1);
    TEST_ASSERT (items[0].revents == ZMQ_POLLIN && items[1].revents == 0);
    char c;
    TEST_ASSERT (zmq_recv (a, &c, 1, 0) == 1);

    TEST_ASSERT (write (fds[1], "y", 1) == 1);
    TEST_ASSERT (zmq_poll (items, 2, -1) == 1);
    TEST_ASSERT (items[0].revents == 0 && items[1].revents == ZMQ_POLLIN);

    /*  POLLOUT on a connected PAIR.  */
    zmq_pollitem_t out[] = {{b, 0, ZMQ_POLLOUT, 0}};
    TEST_ASSERT (zmq_poll (out, 1, 0) == 1 && out[0].revents == ZMQ_POLLOUT);
    TEST_FAIL (zmq_poll (items, -1, 0), EINVAL);
    zmq_pollitem_t bad[] = {{(void *) fds, 0, ZMQ_POLLIN, 0}};
    TEST_FAIL (zmq_poll (bad, 1, 0), ENOTSOCK);
    close (fds[0]);
    close (fds[1]);
    zmq_close (a);
    zmq_close (b);
}

static void test_fd_events (void *ctx)
{
    void *a = zmq_socket (ctx, ZMQ_PULL);
    void *b = zmq_socket (ctx, ZMQ_PUSH);
    TEST_OK (zmq_bind (a, "inproc://fd"));
    TEST_OK (zmq_connect (b, "inproc://fd"));
    int fd;
    size_t sz = sizeof fd;
    TEST_OK (zmq_getsockopt (a, ZMQ_FD, &fd, &sz));
    int events;
    sz = sizeof events;
    TEST_OK (zmq_getsockopt (a, ZMQ_EVENTS, &events, &sz));
    TEST_ASSERT (events == 0);
    /*  Nothing pending: the fd is quiet.  */
    struct pollfd p = {fd, POLLIN, 0};
    TEST_ASSERT (poll (&p, 1, 0) == 0);
    TEST_ASSERT (zmq_send (b, "x", 1, 0) == 1);
    /*  Edge-triggered: the fd signals, then ZMQ_EVENTS says what is ready.  */
    TEST_ASSERT (poll (&p, 1, 1000) == 1);
    TEST_OK (zmq_getsockopt (a, ZMQ_EVENTS, &events, &sz));
    TEST_ASSERT (events & ZMQ_POLLIN);
    char c;
    TEST_ASSERT (zmq_recv (a, &c, 1, ZMQ_DONTWAIT) == 1);
    TEST_OK (zmq_getsockopt (a, ZMQ_EVENTS, &events, &sz));
    TEST_ASSERT (!(events & ZMQ_POLLIN));
    zmq_close (a);
    zmq_close (b);
}

static void on_signal (int sig)
{
    (void) sig;
}

/*  A handled signal ends a blocking receive with EINTR, with or without SA_RESTART (as
    poll(2), which libzmq blocks in, is never restarted).  */
static void test_eintr (void *ctx, int flags)
{
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = flags;
    sigaction (SIGUSR1, &sa, NULL);
    struct blocker b = {zmq_socket (ctx, ZMQ_PULL), 0, 0};
    TEST_OK (zmq_bind (b.sock, flags ? "inproc://eintr-restart" : "inproc://eintr"));
    pthread_t t;
    pthread_create (&t, NULL, block_in_recv, &b);
    usleep (100 * 1000); /* let it block; the signal would be lost only if it had not */
    pthread_kill (t, SIGUSR1);
    pthread_join (t, NULL);
    TEST_ASSERT (b.rc == -1 && b.err == EINTR);
    zmq_close (b.sock);
}

static void test_term_wakes_blocked (void)
{
    void *ctx = zmq_ctx_new ();
    struct blocker b = {zmq_socket (ctx, ZMQ_PULL), 0, 0};
    TEST_OK (zmq_bind (b.sock, "inproc://term"));
    pthread_t t;
    pthread_create (&t, NULL, block_in_recv, &b);
    usleep (50 * 1000);
    TEST_OK (zmq_ctx_shutdown (ctx));
    pthread_join (t, NULL);
    TEST_ASSERT (b.rc == -1 && b.err == ETERM);
    /*  After shutdown every call but close fails with ETERM.  */
    TEST_FAIL (zmq_send (b.sock, "x", 1, ZMQ_DONTWAIT), ETERM);
    TEST_ASSERT (zmq_socket (ctx, ZMQ_PAIR) == NULL && errno == ETERM);
    TEST_OK (zmq_close (b.sock));
    TEST_OK (zmq_ctx_term (ctx));
}

static void *close_later (void *arg)
{
    usleep (100 * 1000);
    zmq_close (arg);
    return NULL;
}

static void test_term_waits_for_close (void)
{
    void *ctx = zmq_ctx_new ();
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    pthread_t t;
    pthread_create (&t, NULL, close_later, s);
    long t0 = now_ms ();
    TEST_OK (zmq_ctx_term (ctx));
    TEST_ASSERT (now_ms () - t0 >= 80);
    pthread_join (t, NULL);
}

static void test_max_sockets (void)
{
    void *ctx = zmq_ctx_new ();
    TEST_OK (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 2));
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    TEST_ASSERT (a && b);
    TEST_ASSERT (zmq_socket (ctx, ZMQ_PAIR) == NULL && errno == EMFILE);
    zmq_close (a);
    void *c = zmq_socket (ctx, ZMQ_PAIR);
    TEST_ASSERT (c);
    zmq_close (b);
    zmq_close (c);
    TEST_ASSERT (zmq_socket (NULL, ZMQ_PAIR) == NULL && errno == EFAULT);
    TEST_OK (zmq_ctx_term (ctx));
}

static void test_many_sockets_under_traffic (void *ctx)
{
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_bind (pull, "inproc://churn"));
    for (int round = 0; round < 200; round++) {
        void *push = zmq_socket (ctx, ZMQ_PUSH);
        TEST_OK (zmq_connect (push, "inproc://churn"));
        TEST_ASSERT (zmq_send (push, &round, sizeof round, 0) == sizeof round);
        TEST_OK (zmq_close (push));
        int v;
        TEST_ASSERT (zmq_recv (pull, &v, sizeof v, 0) == sizeof v);
        TEST_ASSERT (v == round);
    }
    zmq_close (pull);
}

struct proxy_args {
    void *fe, *be, *ctl;
    int rc, err;
};

static void *run_proxy (void *arg)
{
    struct proxy_args *p = arg;
    if (p->ctl)
        p->rc = zmq_proxy_steerable (p->fe, p->be, NULL, p->ctl);
    else
        p->rc = zmq_proxy (p->fe, p->be, NULL);
    p->err = errno;
    return NULL;
}

static void test_proxy (void)
{
    void *ctx = zmq_ctx_new ();
    struct proxy_args p = {zmq_socket (ctx, ZMQ_PULL), zmq_socket (ctx, ZMQ_PUSH), NULL, 0, 0};
    TEST_OK (zmq_bind (p.fe, "inproc://fe"));
    TEST_OK (zmq_bind (p.be, "inproc://be"));
    void *in = zmq_socket (ctx, ZMQ_PUSH);
    void *out = zmq_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_connect (in, "inproc://fe"));
    TEST_OK (zmq_connect (out, "inproc://be"));
    pthread_t t;
    pthread_create (&t, NULL, run_proxy, &p);
    for (int i = 0; i < 1000; i++) {
        TEST_ASSERT (zmq_send (in, "ab", 2, ZMQ_SNDMORE) == 2);
        TEST_ASSERT (zmq_send (in, &i, sizeof i, 0) == sizeof i);
    }
    for (int i = 0; i < 1000; i++) {
        char buf[8];
        int v;
        TEST_ASSERT (zmq_recv (out, buf, sizeof buf, 0) == 2);
        TEST_ASSERT (zmq_recv (out, &v, sizeof v, 0) == sizeof v && v == i);
    }
    zmq_close (in);
    zmq_close (out);
    TEST_OK (zmq_ctx_shutdown (ctx));
    pthread_join (t, NULL);
    TEST_ASSERT (p.rc == -1 && p.err == ETERM);
    zmq_close (p.fe);
    zmq_close (p.be);
    TEST_OK (zmq_ctx_term (ctx));
}

static void test_proxy_steerable (void)
{
    void *ctx = zmq_ctx_new ();
    struct proxy_args p = {zmq_socket (ctx, ZMQ_PULL), zmq_socket (ctx, ZMQ_PUSH),
                           zmq_socket (ctx, ZMQ_PAIR), 0, 0};
    TEST_OK (zmq_bind (p.fe, "inproc://sfe"));
    TEST_OK (zmq_bind (p.be, "inproc://sbe"));
    TEST_OK (zmq_bind (p.ctl, "inproc://ctl"));
    void *ctl = zmq_socket (ctx, ZMQ_PAIR);
    TEST_OK (zmq_connect (ctl, "inproc://ctl"));
    void *in = zmq_socket (ctx, ZMQ_PUSH);
    void *out = zmq_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_connect (in, "inproc://sfe"));
    TEST_OK (zmq_connect (out, "inproc://sbe"));
    pthread_t t;
    pthread_create (&t, NULL, run_proxy, &p);
    TEST_ASSERT (zmq_send (in, "hello", 5, 0) == 5);
    char buf[8];
    TEST_ASSERT (zmq_recv (out, buf, sizeof buf, 0) == 5);
    TEST_ASSERT (zmq_send (ctl, "STATISTICS", 10, 0) == 10);
    uint64_t stats[8];
    for (int i = 0; i < 8; i++) {
        TEST_ASSERT (zmq_recv (ctl, &stats[i], sizeof stats[i], 0) == 8);
        int more;
        size_t sz = sizeof more;
        zmq_getsockopt (ctl, ZMQ_RCVMORE, &more, &sz);
        TEST_ASSERT (more == (i < 7));
    }
    TEST_ASSERT (stats[0] == 1 && stats[1] == 5); /* frontend in */
    TEST_ASSERT (stats[6] == 1 && stats[7] == 5); /* backend out */
    TEST_ASSERT (zmq_send (ctl, "TERMINATE", 9, 0) == 9);
    pthread_join (t, NULL);
    TEST_ASSERT (p.rc == 0);
    zmq_close (in);
    zmq_close (out);
    zmq_close (ctl);
    zmq_close (p.fe);
    zmq_close (p.be);
    zmq_close (p.ctl);
    TEST_OK (zmq_ctx_term (ctx));
}

static void test_proxy_single_socket (void)
{
    /*  One REP socket as both ends: an echo device (pyzmq's single-socket devices).  */
    void *ctx = zmq_ctx_new ();
    struct proxy_args p = {zmq_socket (ctx, ZMQ_REP), NULL, NULL, 0, 0};
    p.be = p.fe;
    TEST_OK (zmq_bind (p.fe, "inproc://echo"));
    void *req = zmq_socket (ctx, ZMQ_REQ);
    TEST_OK (zmq_connect (req, "inproc://echo"));
    pthread_t t;
    pthread_create (&t, NULL, run_proxy, &p);
    char buf[8];
    for (int i = 0; i < 3; i++) {
        TEST_ASSERT (zmq_send (req, "hello", 5, 0) == 5);
        TEST_ASSERT (zmq_recv (req, buf, sizeof buf, 0) == 5);
        TEST_ASSERT (memcmp (buf, "hello", 5) == 0);
    }
    zmq_close (req);
    TEST_OK (zmq_ctx_shutdown (ctx));
    pthread_join (t, NULL);
    zmq_close (p.fe);
    TEST_OK (zmq_ctx_term (ctx));
}

static void test_inproc_close_linger0_keeps_sent (void *ctx)
{
    /*  libzmq: what an inproc socket sent stays readable after it closes, linger or not.  */
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    int zero = 0;
    TEST_OK (zmq_setsockopt (a, ZMQ_LINGER, &zero, sizeof zero));
    TEST_OK (zmq_bind (b, "inproc://linger0"));
    TEST_OK (zmq_connect (a, "inproc://linger0"));
    TEST_ASSERT (zmq_send (a, "abc", 3, 0) == 3);
    TEST_OK (zmq_close (a));
    char buf[4];
    TEST_ASSERT (zmq_recv (b, buf, sizeof buf, ZMQ_DONTWAIT) == 3);
    zmq_close (b);
}

int main (void)
{
    test_setup (60);
    void *ctx = zmq_ctx_new ();
    test_poll_sockets_and_fds (ctx);
    test_fd_events (ctx);
    test_eintr (ctx, 0);
    test_eintr (ctx, SA_RESTART);
    test_many_sockets_under_traffic (ctx);
    test_inproc_close_linger0_keeps_sent (ctx);
    TEST_OK (zmq_ctx_term (ctx));
    test_term_wakes_blocked ();
    test_term_waits_for_close ();
    test_max_sockets ();
    test_proxy ();
    test_proxy_steerable ();
    test_proxy_single_socket ();
    return 0;
}
