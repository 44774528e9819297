/*  PUB and SUB over inproc: filtering, prefixes, counted subscriptions, multipart, HWM,
    inverted matching, subscribing before connecting, and threads.

    A SUB's subscription reaches the PUB asynchronously (when the PUB next processes its
    commands), so tests publish a marker in a loop until the SUB sees it (sync_sub) rather
    than sleep; XPUB-based tests wait for the subscription itself.  */
#include "testutil.h"
#include <pthread.h>

static void send_str (void *s, const char *str, int flags)
{
    TEST_ASSERT (zmq_send (s, str, strlen (str), flags) == (int) strlen (str));
}

static void recv_str (void *s, const char *expect)
{
    char buf[256];
    int n = zmq_recv (s, buf, sizeof buf, 0);
    if (n != (int) strlen (expect) || memcmp (buf, expect, n) != 0) {
        fprintf (stderr, "expected '%s', got %d bytes '%.*s'\n", expect, n, n > 0 ? n : 0,
                 buf);
        TEST_ASSERT (0);
    }
}

static int rcvmore (void *s)
{
    int more;
    size_t sz = sizeof more;
    TEST_OK (zmq_getsockopt (s, ZMQ_RCVMORE, &more, &sz));
    return more;
}

static int events (void *s)
{
    int ev;
    size_t sz = sizeof ev;
    TEST_OK (zmq_getsockopt (s, ZMQ_EVENTS, &ev, &sz));
    return ev;
}

static void set_int (void *s, int option, int value)
{
    TEST_OK (zmq_setsockopt (s, option, &value, sizeof value));
}

static void subscribe (void *s, const char *topic)
{
    TEST_OK (zmq_setsockopt (s, ZMQ_SUBSCRIBE, topic, strlen (topic)));
}

static void unsubscribe (void *s, const char *topic)
{
    TEST_OK (zmq_setsockopt (s, ZMQ_UNSUBSCRIBE, topic, strlen (topic)));
}

/*  Asserts nothing arrives within `ms`.  */
static void expect_nothing (void *s, int ms)
{
    char buf[256];
    set_int (s, ZMQ_RCVTIMEO, ms);
    int n = zmq_recv (s, buf, sizeof buf, 0);
    if (n >= 0)
        fprintf (stderr, "unexpected %d bytes '%.*s'\n", n, n, buf);
    TEST_ASSERT (n == -1 && errno == EAGAIN);
    set_int (s, ZMQ_RCVTIMEO, -1);
}

/*  Discards whatever arrives until nothing has for 20 ms.  */
static void drain (void *s)
{
    char buf[256];
    set_int (s, ZMQ_RCVTIMEO, 20);
    while (zmq_recv (s, buf, sizeof buf, 0) >= 0)
        ;
    set_int (s, ZMQ_RCVTIMEO, -1);
}

/*  Publishes `marker` until `sub` receives it (its subscriptions have then reached the
    publisher), then drains the extra copies. `marker` must match a subscription.  */
static void sync_sub (void *pub, void *sub, const char *marker)
{
    char buf[256];
    set_int (sub, ZMQ_RCVTIMEO, 10);
    int got = 0;
    for (int i = 0; i < 1000 && !got; i++) {
        send_str (pub, marker, 0);
        int n = zmq_recv (sub, buf, sizeof buf, 0);
        if (n >= 0) {
            TEST_ASSERT (n == (int) strlen (marker) && memcmp (buf, marker, n) == 0);
            got = 1;
        }
    }
    TEST_ASSERT (got);
    drain (sub);
}

static void test_basic (void *ctx)
{
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_bind (pub, "inproc://basic"));
    TEST_OK (zmq_connect (sub, "inproc://basic"));
    /*  Without a subscription nothing is received.  */
    send_str (pub, "A0", 0);
    expect_nothing (sub, 20);
    subscribe (sub, "A");
    sync_sub (pub, sub, "A-sync");
    send_str (pub, "A1", 0);
    send_str (pub, "B1", 0);
    send_str (pub, "AB", 0);
    send_str (pub, "", 0);
    send_str (pub, "A", 0);
    recv_str (sub, "A1");
    recv_str (sub, "AB");
    recv_str (sub, "A");
    expect_nothing (sub, 20);
    TEST_OK (zmq_close (pub));
    TEST_OK (zmq_close (sub));
}

static void test_errors_and_events (void *ctx)
{
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    char buf[16];
    /*  One-way sockets.  */
    TEST_FAIL (zmq_send (sub, "x", 1, 0), ENOTSUP);
    TEST_FAIL (zmq_recv (pub, buf, sizeof buf, 0), ENOTSUP);
    TEST_FAIL (zmq_recv (sub, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    /*  PUB is always writable, even with no peer; SUB never is.  */
    TEST_ASSERT (events (pub) == ZMQ_POLLOUT);
    TEST_ASSERT (events (sub) == 0);
    TEST_ASSERT (zmq_send (pub, "x", 1, ZMQ_DONTWAIT) == 1);
    /*  Subscribing is SUB's business; PUB takes it only in XPUB_MANUAL mode.  */
    TEST_FAIL (zmq_setsockopt (pub, ZMQ_SUBSCRIBE, "A", 1), EINVAL);
    TEST_FAIL (zmq_setsockopt (pub, ZMQ_UNSUBSCRIBE, "A", 1), EINVAL);
    /*  XPUB options are not SUB's.  */
    int one = 1;
    TEST_FAIL (zmq_setsockopt (sub, ZMQ_XPUB_VERBOSE, &one, sizeof one), EINVAL);
    /*  Unsubscribing from what was never subscribed is not an error.  */
    unsubscribe (sub, "never");
    subscribe (sub, "");
    unsubscribe (sub, "");
    TEST_OK (zmq_close (pub));
    TEST_OK (zmq_close (sub));
}

static void test_prefixes_and_counting (void *ctx)
{
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_bind (pub, "inproc://prefix"));
    TEST_OK (zmq_connect (sub, "inproc://prefix"));
    subscribe (sub, "ab");
    subscribe (sub, "ab");
    subscribe (sub, "abcd");
    subscribe (sub, "x");
    sync_sub (pub, sub, "x-sync");
    /*  Binary comparison of the subscription with the start of the message.  */
    send_str (pub, "a", 0);
    send_str (pub, "ab", 0);
    send_str (pub, "abc", 0);
    send_str (pub, "abcde", 0);
    send_str (pub, "b", 0);
    send_str (pub, "xab", 0);
    recv_str (sub, "ab");
    recv_str (sub, "abc");
    recv_str (sub, "abcde"); /* matches two subscriptions, arrives once */
    recv_str (sub, "xab");
    expect_nothing (sub, 20);
    /*  Subscribed twice: the first unsubscribe leaves one in place.  */
    unsubscribe (sub, "ab");
    send_str (pub, "ab1", 0);
    recv_str (sub, "ab1");
    unsubscribe (sub, "ab");
    send_str (pub, "ab2", 0);
    send_str (pub, "abcd2", 0);
    recv_str (sub, "abcd2");
    expect_nothing (sub, 20);
    /*  Binary topics, zero bytes included.  */
    TEST_OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "\0\1", 2));
    sync_sub (pub, sub, "x-sync2");
    TEST_ASSERT (zmq_send (pub, "\0\1\2", 3, 0) == 3);
    TEST_ASSERT (zmq_send (pub, "\0\2", 2, 0) == 2);
    char buf[8];
    TEST_ASSERT (zmq_recv (sub, buf, sizeof buf, 0) == 3);
    TEST_ASSERT (memcmp (buf, "\0\1\2", 3) == 0);
    expect_nothing (sub, 20);
    TEST_OK (zmq_close (pub));
    TEST_OK (zmq_close (sub));
}

#define NSUBS 20

static void test_many_subscribers (void *ctx)
{
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    TEST_OK (zmq_bind (pub, "inproc://many"));
    void *subs[NSUBS];
    char topic[32];
    for (int i = 0; i < NSUBS; i++) {
        subs[i] = zmq_socket (ctx, ZMQ_SUB);
        TEST_OK (zmq_connect (subs[i], "inproc://many"));
        sprintf (topic, "own%02d", i);
        subscribe (subs[i], topic);
        subscribe (subs[i], "all");
        if (i % 2 == 0)
            subscribe (subs[i], "even");
    }
    for (int i = 0; i < NSUBS; i++)
        sync_sub (pub, subs[i], "all-sync");
    /*  The early ones also got the later ones' markers.  */
    for (int i = 0; i < NSUBS; i++)
        drain (subs[i]);
    for (int i = 0; i < NSUBS; i++) {
        sprintf (topic, "own%02d", i);
        send_str (pub, topic, 0);
    }
    send_str (pub, "all", 0);
    send_str (pub, "even", 0);
    send_str (pub, "none", 0);
    for (int i = 0; i < NSUBS; i++) {
        sprintf (topic, "own%02d", i);
        recv_str (subs[i], topic);
        recv_str (subs[i], "all");
        if (i % 2 == 0)
            recv_str (subs[i], "even");
    }
    for (int i = 0; i < NSUBS; i++) {
        expect_nothing (subs[i], 5);
        TEST_OK (zmq_close (subs[i]));
    }
    /*  With every subscriber gone, publishing still works.  */
    send_str (pub, "all", 0);
    TEST_OK (zmq_close (pub));
}

#define NTOPICS 500

static void test_many_topics (void *ctx)
{
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_bind (pub, "inproc://topics"));
    TEST_OK (zmq_connect (sub, "inproc://topics"));
    char topic[32];
    /*  Every even-numbered topic.  */
    for (int i = 0; i < 2 * NTOPICS; i += 2) {
        sprintf (topic, "topic.%04d", i);
        subscribe (sub, topic);
    }
    subscribe (sub, "sync");
    sync_sub (pub, sub, "sync");
    for (int i = 0; i < 2 * NTOPICS; i++) {
        sprintf (topic, "topic.%04d.data", i);
        send_str (pub, topic, ZMQ_DONTWAIT);
    }
    for (int i = 0; i < 2 * NTOPICS; i += 2) {
        sprintf (topic, "topic.%04d.data", i);
        recv_str (sub, topic);
    }
    expect_nothing (sub, 20);
    TEST_OK (zmq_close (pub));
    TEST_OK (zmq_close (sub));
}

static void test_multipart (void *ctx)
{
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_bind (pub, "inproc://multi"));
    TEST_OK (zmq_connect (sub, "inproc://multi"));
    subscribe (sub, "yes");
    sync_sub (pub, sub, "yes-sync");
    /*  The first part decides; the rest follows whole or not at all.  */
    send_str (pub, "no", ZMQ_SNDMORE);
    send_str (pub, "yes-but-second-part", 0);
    send_str (pub, "yes", ZMQ_SNDMORE);
    send_str (pub, "no-matter", ZMQ_SNDMORE);
    send_str (pub, "", 0);
    send_str (pub, "nope", ZMQ_SNDMORE);
    send_str (pub, "x", ZMQ_SNDMORE);
    send_str (pub, "y", 0);
    send_str (pub, "yes2", 0);
    recv_str (sub, "yes");
    TEST_ASSERT (rcvmore (sub));
    recv_str (sub, "no-matter");
    TEST_ASSERT (rcvmore (sub));
    recv_str (sub, "");
    TEST_ASSERT (!rcvmore (sub));
    recv_str (sub, "yes2");
    TEST_ASSERT (!rcvmore (sub));
    expect_nothing (sub, 20);
    TEST_OK (zmq_close (pub));
    TEST_OK (zmq_close (sub));
}

static void test_events_filter (void *ctx)
{
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_bind (pub, "inproc://events"));
    TEST_OK (zmq_connect (sub, "inproc://events"));
    subscribe (sub, "A");
    subscribe (sub, "B");
    sync_sub (pub, sub, "B-sync");
    unsubscribe (sub, "B");
    /*  The PUB may still send B messages (the unsubscription travels); SUB's own filter
        drops them and POLLIN stays off.  */
    send_str (pub, "B1", 0);
    TEST_ASSERT ((events (sub) & ZMQ_POLLIN) == 0);
    send_str (pub, "A1", 0);
    zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
    TEST_ASSERT (zmq_poll (&item, 1, 1000) == 1);
    TEST_ASSERT (events (sub) == ZMQ_POLLIN);
    recv_str (sub, "A1");
    TEST_ASSERT (events (sub) == 0);
    TEST_OK (zmq_close (pub));
    TEST_OK (zmq_close (sub));
}

static void test_hwm_drops (void *ctx)
{
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    set_int (pub, ZMQ_SNDHWM, 10);
    set_int (sub, ZMQ_RCVHWM, 10);
    TEST_OK (zmq_bind (pub, "inproc://hwm"));
    TEST_OK (zmq_connect (sub, "inproc://hwm"));
    subscribe (sub, "");
    sync_sub (pub, sub, "sync");
    /*  Far past the HWM: PUB never blocks and never fails, it drops.  */
    char msg[16];
    for (int i = 0; i < 1000; i++) {
        int n = sprintf (msg, "%d", i);
        TEST_ASSERT (zmq_send (pub, msg, n, 0) == n);
    }
    TEST_ASSERT (events (pub) == ZMQ_POLLOUT);
    /*  The first messages, up to the HWM of the pipe (10 + 10 over inproc), arrived; the
        publisher may count a few read markers against it until the reader reports them.  */
    int got = 0;
    char buf[16];
    set_int (sub, ZMQ_RCVTIMEO, 20);
    int n;
    while ((n = zmq_recv (sub, buf, sizeof buf, 0)) >= 0) {
        buf[n] = 0;
        TEST_ASSERT (atoi (buf) == got);
        got++;
    }
    TEST_ASSERT (got >= 10 && got <= 20);
    /*  Once read, the pipe takes messages again.  */
    send_str (pub, "after", 0);
    recv_str (sub, "after");
    TEST_OK (zmq_close (pub));
    TEST_OK (zmq_close (sub));
}

static void test_invert_matching (void *ctx)
{
    /*  XPUB rather than PUB, to wait for subscriptions by receiving them.  */
    void *pub = zmq_socket (ctx, ZMQ_XPUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    set_int (pub, ZMQ_INVERT_MATCHING, 1);
    set_int (sub, ZMQ_INVERT_MATCHING, 1);
    int v;
    size_t sz = sizeof v;
    TEST_OK (zmq_getsockopt (sub, ZMQ_INVERT_MATCHING, &v, &sz));
    TEST_ASSERT (v == 1);
    TEST_OK (zmq_bind (pub, "inproc://invert"));
    TEST_OK (zmq_connect (sub, "inproc://invert"));
    subscribe (sub, "A");
    recv_str (pub, "\1A");
    /*  Everything but A.  */
    send_str (pub, "A1", 0);
    send_str (pub, "B1", 0);
    send_str (pub, "AB", 0);
    send_str (pub, "C", 0);
    recv_str (sub, "B1");
    recv_str (sub, "C");
    expect_nothing (sub, 20);
    /*  A SUB without inversion rejects what an inverting publisher sends it.  */
    void *plain = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_connect (plain, "inproc://invert"));
    subscribe (plain, "B");
    recv_str (pub, "\1B");
    send_str (pub, "B2", 0);
    send_str (pub, "D2", 0);
    recv_str (sub, "B2");
    recv_str (sub, "D2");
    expect_nothing (plain, 20);
    TEST_OK (zmq_close (plain));
    TEST_OK (zmq_close (pub));
    TEST_OK (zmq_close (sub));
}

static void test_subscribe_before_connect (void *ctx)
{
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    subscribe (sub, "early");
    subscribe (sub, "early");
    subscribe (sub, "gone");
    unsubscribe (sub, "gone");
    /*  Connect before the bind exists, too.  */
    TEST_OK (zmq_connect (sub, "inproc://before"));
    TEST_OK (zmq_bind (pub, "inproc://before"));
    sync_sub (pub, sub, "early-sync");
    send_str (pub, "gone", 0);
    send_str (pub, "early", 0);
    recv_str (sub, "early");
    /*  Subscribed twice before connecting: still counted twice.  */
    unsubscribe (sub, "early");
    send_str (pub, "early2", 0);
    recv_str (sub, "early2");
    expect_nothing (sub, 20);
    TEST_OK (zmq_close (pub));
    TEST_OK (zmq_close (sub));
}

/*  A late subscriber gets only what is published after its subscription arrives.  */
static void test_late_joiner (void *ctx)
{
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub1 = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_bind (pub, "inproc://late"));
    TEST_OK (zmq_connect (sub1, "inproc://late"));
    subscribe (sub1, "");
    sync_sub (pub, sub1, "s");
    send_str (pub, "one", 0);
    void *sub2 = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_connect (sub2, "inproc://late"));
    subscribe (sub2, "");
    sync_sub (pub, sub2, "s");
    recv_str (sub1, "one");
    /*  sub1 also got the markers that synchronised sub2.  */
    drain (sub1);
    send_str (pub, "two", 0);
    recv_str (sub1, "two");
    recv_str (sub2, "two");
    TEST_OK (zmq_close (sub1));
    TEST_OK (zmq_close (sub2));
    TEST_OK (zmq_close (pub));
}

#define NMSGS 100000

struct thread_arg
{
    void *sock;
    int count;
};

static void *publisher (void *arg)
{
    struct thread_arg *a = arg;
    for (int i = 0; i < a->count; i++) {
        int v[2] = {0x41414141, i}; /* topic "AAAA", then the sequence number */
        TEST_ASSERT (zmq_send (a->sock, v, sizeof v, 0) == sizeof v);
    }
    return NULL;
}

static void *subscriber (void *arg)
{
    struct thread_arg *a = arg;
    for (int i = 0; i < a->count; i++) {
        int v[2];
        TEST_ASSERT (zmq_recv (a->sock, v, sizeof v, 0) == sizeof v);
        TEST_ASSERT (v[1] == i);
    }
    return NULL;
}

/*  A sender thread and two receiver threads; XPUB_NODROP makes the publisher wait at the
    HWM instead of dropping, so every message must arrive, in order.  */
static void test_threads (void *ctx)
{
    void *pub = zmq_socket (ctx, ZMQ_XPUB);
    set_int (pub, ZMQ_XPUB_NODROP, 1);
    set_int (pub, ZMQ_XPUB_VERBOSE, 1);
    TEST_OK (zmq_bind (pub, "inproc://threads"));
    void *subs[3];
    for (int i = 0; i < 3; i++) {
        subs[i] = zmq_socket (ctx, ZMQ_SUB);
        TEST_OK (zmq_connect (subs[i], "inproc://threads"));
        subscribe (subs[i], i < 2 ? "AAAA" : "BBBB");
    }
    /*  All three subscriptions have arrived once XPUB has handed them over.  */
    char buf[8];
    for (int i = 0; i < 3; i++)
        TEST_ASSERT (zmq_recv (pub, buf, sizeof buf, 0) == 5);
    struct thread_arg pa = {pub, NMSGS}, s0 = {subs[0], NMSGS}, s1 = {subs[1], NMSGS};
    pthread_t tp, t0, t1;
    pthread_create (&t0, NULL, subscriber, &s0);
    pthread_create (&t1, NULL, subscriber, &s1);
    pthread_create (&tp, NULL, publisher, &pa);
    pthread_join (tp, NULL);
    pthread_join (t0, NULL);
    pthread_join (t1, NULL);
    expect_nothing (subs[2], 10);
    for (int i = 0; i < 3; i++)
        TEST_OK (zmq_close (subs[i]));
    TEST_OK (zmq_close (pub));
}

int main (void)
{
    test_setup (60);
    void *ctx = zmq_ctx_new ();
    test_basic (ctx);
    test_errors_and_events (ctx);
    test_prefixes_and_counting (ctx);
    test_many_subscribers (ctx);
    test_many_topics (ctx);
    test_multipart (ctx);
    test_events_filter (ctx);
    test_hwm_drops (ctx);
    test_invert_matching (ctx);
    test_subscribe_before_connect (ctx);
    test_late_joiner (ctx);
    test_threads (ctx);
    TEST_OK (zmq_ctx_term (ctx));
    return 0;
}
