/*  PUB/SUB and XPUB/XSUB over tcp and ipc: subscriptions travel the wire, filtering,
    multipart, unsubscription when a subscriber's connection goes, and a SUB resending its
    subscriptions to a publisher that restarted on the same address.  */
#include "testutil.h"

static void set_int (void *s, int option, int value)
{
    TEST_OK (zmq_setsockopt (s, option, &value, sizeof value));
}

static int rcvmore (void *s)
{
    int more;
    size_t sz = sizeof more;
    TEST_OK (zmq_getsockopt (s, ZMQ_RCVMORE, &more, &sz));
    return more;
}

static void send_str (void *s, const char *str, int flags)
{
    TEST_ASSERT (zmq_send (s, str, strlen (str), flags) == (int) strlen (str));
}

/*  Receives one part within 5 s (connections take a moment) and checks it.  */
static void recv_bytes (void *s, const char *expect, int len)
{
    char buf[256];
    set_int (s, ZMQ_RCVTIMEO, 5000);
    int n = zmq_recv (s, buf, sizeof buf, 0);
    if (n != len || memcmp (buf, expect, len) != 0) {
        fprintf (stderr, "expected %d bytes '%.*s', got %d bytes '%.*s'\n", len, len, expect, n,
                 n > 0 ? n : 0, buf);
        TEST_ASSERT (0);
    }
}

static void recv_str (void *s, const char *expect)
{
    recv_bytes (s, expect, (int) strlen (expect));
}

static void recv_sub (void *xpub, int subscribe, const char *topic)
{
    char expect[64];
    expect[0] = (char) subscribe;
    strcpy (expect + 1, topic);
    recv_bytes (xpub, expect, 1 + (int) strlen (topic));
}

static void expect_nothing (void *s, int ms)
{
    char buf[256];
    set_int (s, ZMQ_RCVTIMEO, ms);
    TEST_FAIL (zmq_recv (s, buf, sizeof buf, 0), EAGAIN);
}

static void subscribe (void *s, const char *topic)
{
    TEST_OK (zmq_setsockopt (s, ZMQ_SUBSCRIBE, topic, strlen (topic)));
}

static void bind_any (void *s, const char *addr, char *endpoint, size_t len)
{
    TEST_OK (zmq_bind (s, addr));
    TEST_OK (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, endpoint, &len));
}

static void test_filtering (void *ctx, const char *addr)
{
    char ep[256];
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    bind_any (xpub, addr, ep, sizeof ep);
    void *a = zmq_socket (ctx, ZMQ_SUB);
    void *b = zmq_socket (ctx, ZMQ_SUB);
    /*  Subscribed before connecting, and after.  */
    subscribe (a, "alpha");
    TEST_OK (zmq_connect (a, ep));
    recv_sub (xpub, 1, "alpha");
    TEST_OK (zmq_connect (b, ep));
    subscribe (b, "beta");
    subscribe (b, "");
    recv_sub (xpub, 1, "beta");
    recv_sub (xpub, 1, "");
    send_str (xpub, "alpha1", ZMQ_SNDMORE);
    send_str (xpub, "", ZMQ_SNDMORE);
    send_str (xpub, "end", 0);
    send_str (xpub, "gamma", 0);
    recv_str (a, "alpha1");
    TEST_ASSERT (rcvmore (a));
    recv_str (a, "");
    TEST_ASSERT (rcvmore (a));
    recv_str (a, "end");
    TEST_ASSERT (!rcvmore (a));
    recv_str (b, "alpha1");
    recv_str (b, "");
    recv_str (b, "end");
    recv_str (b, "gamma");
    expect_nothing (a, 50);
    /*  A subscriber whose connection goes is unsubscribed.  */
    TEST_OK (zmq_close (a));
    recv_sub (xpub, 0, "alpha");
    /*  XSUB's own messages travel upstream.  */
    void *xsub = zmq_socket (ctx, ZMQ_XSUB);
    TEST_OK (zmq_connect (xsub, ep));
    TEST_ASSERT (zmq_send (xsub, "\1delta", 6, 0) == 6);
    recv_sub (xpub, 1, "delta");
    send_str (xsub, "hello upstream", 0);
    recv_str (xpub, "hello upstream");
    send_str (xpub, "delta!", 0);
    recv_str (xsub, "delta!");
    recv_str (b, "delta!");
    TEST_OK (zmq_close (xsub));
    recv_sub (xpub, 0, "delta");
    TEST_OK (zmq_close (b));
    TEST_OK (zmq_close (xpub));
}

/*  The publisher goes away and another binds the same address: the SUB reconnects and
    subscribes again by itself.  */
static void test_resubscribe_after_reconnect (void *ctx)
{
    char ep[256];
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    set_int (xpub, ZMQ_LINGER, 0);
    bind_any (xpub, "tcp://127.0.0.1:*", ep, sizeof ep);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    set_int (sub, ZMQ_RECONNECT_IVL, 20);
    TEST_OK (zmq_connect (sub, ep));
    subscribe (sub, "A");
    subscribe (sub, "B");
    recv_sub (xpub, 1, "A");
    recv_sub (xpub, 1, "B");
    send_str (xpub, "A1", 0);
    recv_str (sub, "A1");
    TEST_OK (zmq_close (xpub));
    xpub = zmq_socket (ctx, ZMQ_XPUB);
    /*  The port is free once the old listener has really closed.  */
    int rc = -1;
    for (int i = 0; i < 500 && rc != 0; i++) {
        rc = zmq_bind (xpub, ep);
        if (rc != 0) {
            TEST_ASSERT (errno == EADDRINUSE);
            usleep (10000);
        }
    }
    TEST_ASSERT (rc == 0);
    /*  The SUB resends when it runs the reconnection's command, that is when the
        application calls it: wait on both sockets in turn.  */
    char buf[8];
    int n = -1;
    set_int (sub, ZMQ_RCVTIMEO, 10);
    set_int (xpub, ZMQ_RCVTIMEO, 10);
    for (int i = 0; i < 500 && n < 0; i++) {
        TEST_FAIL (zmq_recv (sub, buf, sizeof buf, 0), EAGAIN);
        n = zmq_recv (xpub, buf, sizeof buf, 0);
    }
    TEST_ASSERT (n == 2 && memcmp (buf, "\1A", 2) == 0);
    recv_sub (xpub, 1, "B");
    send_str (xpub, "B2", 0);
    recv_str (sub, "B2");
    TEST_OK (zmq_close (sub));
    TEST_OK (zmq_close (xpub));
}

int main (void)
{
    test_setup (60);
    void *ctx = zmq_ctx_new ();
    test_filtering (ctx, "tcp://127.0.0.1:*");
    test_filtering (ctx, "ipc://*");
    test_resubscribe_after_reconnect (ctx);
    TEST_OK (zmq_ctx_term (ctx));
    return 0;
}
