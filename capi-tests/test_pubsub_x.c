/*  XPUB and XSUB over inproc: subscription messages delivered to the application
    (plain, XPUB_VERBOSE, XPUB_VERBOSER, on peer close), XPUB_MANUAL, XPUB_WELCOME_MSG,
    XPUB_NODROP, XSUB sending subscriptions and user messages, XSUB replaying its
    subscriptions to a new publisher, and the draft options.

    Subscriptions reach an XPUB asynchronously; tests wait for them by receiving them from
    the XPUB (a blocking receive runs the XPUB's pending commands).  */
#define ZMQ_BUILD_DRAFT_API
#include "testutil.h"

static void set_int (void *s, int option, int value)
{
    TEST_OK (zmq_setsockopt (s, option, &value, sizeof value));
}

static int events (void *s)
{
    int ev;
    size_t sz = sizeof ev;
    TEST_OK (zmq_getsockopt (s, ZMQ_EVENTS, &ev, &sz));
    return ev;
}

static int rcvmore (void *s)
{
    int more;
    size_t sz = sizeof more;
    TEST_OK (zmq_getsockopt (s, ZMQ_RCVMORE, &more, &sz));
    return more;
}

/*  Sends `n` bytes (subscription messages hold zero bytes, so lengths are explicit).  */
static void send_bytes (void *s, const char *data, int n, int flags)
{
    TEST_ASSERT (zmq_send (s, data, n, flags) == n);
}

static void send_str (void *s, const char *str, int flags)
{
    send_bytes (s, str, (int) strlen (str), flags);
}

/*  Receives one part, within a second, and checks it (and its MORE flag).  */
static void recv_bytes (void *s, const char *expect, int len, int more)
{
    char buf[256];
    set_int (s, ZMQ_RCVTIMEO, 1000);
    int n = zmq_recv (s, buf, sizeof buf, 0);
    if (n != len || memcmp (buf, expect, len) != 0) {
        fprintf (stderr, "expected %d bytes [%d]'%.*s', got %d bytes [%d]'%.*s'\n", len,
                 len > 0 ? expect[0] : -1, len > 1 ? len - 1 : 0, expect + 1, n,
                 n > 0 ? buf[0] : -1, n > 1 ? n - 1 : 0, buf + 1);
        TEST_ASSERT (0);
    }
    TEST_ASSERT (rcvmore (s) == more);
}

static void recv_str (void *s, const char *expect)
{
    recv_bytes (s, expect, (int) strlen (expect), 0);
}

/*  Receives the XPUB message for a subscription (1) or an unsubscription (0).  */
static void recv_sub (void *xpub, int subscribe, const char *topic)
{
    char expect[64];
    expect[0] = (char) subscribe;
    strcpy (expect + 1, topic);
    recv_bytes (xpub, expect, 1 + (int) strlen (topic), 0);
}

/*  Sends an XSUB subscription (1) or unsubscription (0).  */
static void send_sub (void *xsub, int subscribe, const char *topic, int flags)
{
    char msg[64];
    msg[0] = (char) subscribe;
    strcpy (msg + 1, topic);
    send_bytes (xsub, msg, 1 + (int) strlen (topic), flags);
}

static void expect_nothing (void *s, int ms)
{
    char buf[256];
    set_int (s, ZMQ_RCVTIMEO, ms);
    int n = zmq_recv (s, buf, sizeof buf, 0);
    if (n >= 0)
        fprintf (stderr, "unexpected %d bytes [%d]'%.*s'\n", n, n > 0 ? buf[0] : -1,
                 n > 1 ? n - 1 : 0, buf + 1);
    TEST_ASSERT (n == -1 && errno == EAGAIN);
}

static void subscribe (void *s, const char *topic)
{
    TEST_OK (zmq_setsockopt (s, ZMQ_SUBSCRIBE, topic, strlen (topic)));
}

static void unsubscribe (void *s, const char *topic)
{
    TEST_OK (zmq_setsockopt (s, ZMQ_UNSUBSCRIBE, topic, strlen (topic)));
}

static void test_xpub_basics (void *ctx)
{
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    char buf[16];
    TEST_FAIL (zmq_recv (xpub, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    TEST_ASSERT (events (xpub) == ZMQ_POLLOUT);
    TEST_FAIL (zmq_setsockopt (xpub, ZMQ_SUBSCRIBE, "A", 1), EINVAL);
    /*  Pattern options are write-only.  */
    int v;
    size_t sz = sizeof v;
    TEST_FAIL (zmq_getsockopt (xpub, ZMQ_XPUB_VERBOSE, &v, &sz), EINVAL);
    v = -1;
    TEST_FAIL (zmq_setsockopt (xpub, ZMQ_XPUB_VERBOSE, &v, sizeof v), EINVAL);
    TEST_OK (zmq_bind (xpub, "inproc://xbasic"));
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_connect (sub, "inproc://xbasic"));
    subscribe (sub, "A");
    recv_sub (xpub, 1, "A");
    send_str (xpub, "A1", 0);
    recv_str (sub, "A1");
    /*  A duplicate from the same peer is not news; the peer counts its own.  */
    subscribe (sub, "A");
    unsubscribe (sub, "A");
    expect_nothing (xpub, 20);
    unsubscribe (sub, "A");
    recv_sub (xpub, 0, "A");
    /*  The empty topic, and POLLIN while a subscription waits.  */
    subscribe (sub, "");
    zmq_pollitem_t item = {xpub, 0, ZMQ_POLLIN, 0};
    TEST_ASSERT (zmq_poll (&item, 1, 1000) == 1);
    TEST_ASSERT (events (xpub) == (ZMQ_POLLIN | ZMQ_POLLOUT));
    recv_sub (xpub, 1, "");
    TEST_ASSERT (events (xpub) == ZMQ_POLLOUT);
    send_str (xpub, "anything", 0);
    recv_str (sub, "anything");
    TEST_OK (zmq_close (sub));
    recv_sub (xpub, 0, "");
    TEST_OK (zmq_close (xpub));
}

/*  mode 0: default, 1: XPUB_VERBOSE, 2: XPUB_VERBOSER.  */
static void test_verbose (void *ctx, int mode)
{
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    if (mode == 1)
        set_int (xpub, ZMQ_XPUB_VERBOSE, 1);
    if (mode == 2)
        set_int (xpub, ZMQ_XPUB_VERBOSER, 1);
    char ep[32];
    sprintf (ep, "inproc://verbose%d", mode);
    TEST_OK (zmq_bind (xpub, ep));
    void *a = zmq_socket (ctx, ZMQ_SUB);
    void *b = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_connect (a, ep));
    TEST_OK (zmq_connect (b, ep));
    subscribe (a, "T");
    recv_sub (xpub, 1, "T");
    subscribe (b, "T");
    if (mode >= 1)
        recv_sub (xpub, 1, "T");
    /*  First unsubscription of two.  */
    unsubscribe (a, "T");
    if (mode == 2)
        recv_sub (xpub, 0, "T");
    /*  The last one.  */
    unsubscribe (b, "T");
    recv_sub (xpub, 0, "T");
    /*  Same again when peers go away instead of unsubscribing.  */
    subscribe (a, "U");
    recv_sub (xpub, 1, "U");
    subscribe (b, "U");
    if (mode >= 1)
        recv_sub (xpub, 1, "U");
    TEST_OK (zmq_close (a));
    if (mode == 2)
        recv_sub (xpub, 0, "U");
    TEST_OK (zmq_close (b));
    recv_sub (xpub, 0, "U");
    expect_nothing (xpub, 20);
    TEST_OK (zmq_close (xpub));
}

static void test_unsubscribe_on_close (void *ctx)
{
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    TEST_OK (zmq_bind (xpub, "inproc://onclose"));
    void *a = zmq_socket (ctx, ZMQ_SUB);
    void *b = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_connect (a, "inproc://onclose"));
    TEST_OK (zmq_connect (b, "inproc://onclose"));
    subscribe (a, "zz");
    recv_sub (xpub, 1, "zz");
    subscribe (b, "shared");
    recv_sub (xpub, 1, "shared");
    subscribe (a, "shared");
    subscribe (a, "aa");
    recv_sub (xpub, 1, "aa");
    subscribe (a, "");
    recv_sub (xpub, 1, "");
    /*  a's topics nobody else holds come back as unsubscriptions, in byte order.  */
    TEST_OK (zmq_close (a));
    recv_sub (xpub, 0, "");
    recv_sub (xpub, 0, "aa");
    recv_sub (xpub, 0, "zz");
    expect_nothing (xpub, 20);
    send_str (xpub, "shared!", 0);
    recv_str (b, "shared!");
    TEST_OK (zmq_close (b));
    recv_sub (xpub, 0, "shared");
    TEST_OK (zmq_close (xpub));
}

static void test_manual (void *ctx)
{
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    set_int (xpub, ZMQ_XPUB_MANUAL, 1);
    TEST_OK (zmq_bind (xpub, "inproc://manual"));
    /*  Nothing received yet: subscribing applies to no pipe, and succeeds.  */
    subscribe (xpub, "nobody");
    /*  XSUB, which does not filter, shows exactly what the XPUB sends it.  */
    void *xsub = zmq_socket (ctx, ZMQ_XSUB);
    TEST_OK (zmq_connect (xsub, "inproc://manual"));
    send_sub (xsub, 1, "A", 0);
    recv_sub (xpub, 1, "A");
    /*  Not applied by itself: the application maps A to B for this peer.  */
    subscribe (xpub, "B");
    send_str (xpub, "A-msg", 0);
    send_str (xpub, "B-msg", 0);
    recv_str (xsub, "B-msg");
    expect_nothing (xsub, 20);
    /*  Every request is delivered in manual mode, duplicates included.  */
    send_sub (xsub, 1, "A", 0);
    recv_sub (xpub, 1, "A");
    send_sub (xsub, 0, "A", 0);
    send_sub (xsub, 0, "A", 0); /* the XSUB passes on only the last of its two */
    recv_sub (xpub, 0, "A");
    unsubscribe (xpub, "B");
    send_str (xpub, "B-msg2", 0);
    expect_nothing (xsub, 20);
    /*  What the peer asked for is given back when it goes, applied or not.  */
    send_sub (xsub, 1, "C", 0);
    recv_sub (xpub, 1, "C");
    TEST_OK (zmq_close (xsub));
    recv_sub (xpub, 0, "C");
    expect_nothing (xpub, 20);
    subscribe (xpub, "D");
    TEST_OK (zmq_close (xpub));
}

static void test_manual_last_value (void *ctx)
{
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    set_int (xpub, ZMQ_XPUB_MANUAL_LAST_VALUE, 1);
    TEST_OK (zmq_bind (xpub, "inproc://lvc"));
    void *s1 = zmq_socket (ctx, ZMQ_SUB);
    void *s2 = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_connect (s1, "inproc://lvc"));
    TEST_OK (zmq_connect (s2, "inproc://lvc"));
    subscribe (s1, "A");
    recv_sub (xpub, 1, "A");
    subscribe (xpub, "A");
    send_str (xpub, "A-last-for-s1", 0);
    recv_str (s1, "A-last-for-s1");
    subscribe (s2, "A");
    recv_sub (xpub, 1, "A");
    subscribe (xpub, "A");
    /*  The first message after a manual subscription goes to that subscriber only (a
        last-value cache answering a newcomer); the next goes to everyone.  */
    send_str (xpub, "A-last-for-s2", 0);
    send_str (xpub, "A-all", 0);
    recv_str (s2, "A-last-for-s2");
    recv_str (s2, "A-all");
    recv_str (s1, "A-all");
    expect_nothing (s1, 20);
    TEST_OK (zmq_close (s1));
    TEST_OK (zmq_close (s2));
    TEST_OK (zmq_close (xpub));
}

static void test_welcome (void *ctx)
{
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    TEST_OK (zmq_setsockopt (xpub, ZMQ_XPUB_WELCOME_MSG, "W", 1));
    TEST_OK (zmq_bind (xpub, "inproc://welcome"));
    /*  The XPUB sends it when it takes the new pipe on, which it does while it waits here
        for the subscription.  */
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    subscribe (sub, "W");
    TEST_OK (zmq_connect (sub, "inproc://welcome"));
    recv_sub (xpub, 1, "W");
    recv_str (sub, "W");
    /*  A SUB not subscribed to it filters it out; XSUB does not filter.  */
    void *other = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_connect (other, "inproc://welcome"));
    subscribe (other, "O");
    recv_sub (xpub, 1, "O");
    expect_nothing (other, 20);
    void *xsub = zmq_socket (ctx, ZMQ_XSUB);
    TEST_OK (zmq_connect (xsub, "inproc://welcome"));
    send_sub (xsub, 1, "X", 0);
    recv_sub (xpub, 1, "X");
    recv_str (xsub, "W");
    /*  Cleared with NULL: later peers get nothing.  */
    TEST_OK (zmq_setsockopt (xpub, ZMQ_XPUB_WELCOME_MSG, NULL, 0));
    void *xsub2 = zmq_socket (ctx, ZMQ_XSUB);
    TEST_OK (zmq_connect (xsub2, "inproc://welcome"));
    send_sub (xsub2, 1, "Y", 0);
    recv_sub (xpub, 1, "Y");
    expect_nothing (xsub2, 20);
    TEST_OK (zmq_close (sub));
    TEST_OK (zmq_close (other));
    TEST_OK (zmq_close (xsub));
    TEST_OK (zmq_close (xsub2));
    TEST_OK (zmq_close (xpub));
}

static void test_nodrop (void *ctx)
{
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    set_int (xpub, ZMQ_XPUB_NODROP, 1);
    set_int (xpub, ZMQ_SNDHWM, 1);
    TEST_OK (zmq_bind (xpub, "inproc://nodrop"));
    void *full = zmq_socket (ctx, ZMQ_SUB);
    void *other = zmq_socket (ctx, ZMQ_SUB);
    set_int (full, ZMQ_RCVHWM, 1);
    TEST_OK (zmq_connect (full, "inproc://nodrop"));
    TEST_OK (zmq_connect (other, "inproc://nodrop"));
    subscribe (full, "A");
    recv_sub (xpub, 1, "A");
    subscribe (other, "B");
    recv_sub (xpub, 1, "B");
    /*  The pipe to `full` holds 1 + 1 messages; then send says EAGAIN, not drop.  */
    int sent = 0;
    while (zmq_send (xpub, "A", 1, ZMQ_DONTWAIT) == 1)
        sent++;
    TEST_ASSERT (errno == EAGAIN);
    TEST_ASSERT (sent == 2);
    /*  Still POLLOUT (XPUB always is); a blocking send times out.  */
    TEST_ASSERT (events (xpub) & ZMQ_POLLOUT);
    set_int (xpub, ZMQ_SNDTIMEO, 50);
    TEST_FAIL (zmq_send (xpub, "A", 1, 0), EAGAIN);
    /*  Only matching pipes count: B goes through.  */
    send_str (xpub, "B", ZMQ_DONTWAIT);
    recv_str (other, "B");
    /*  Reading one makes room; the blocking send waits for the reader's signal.  */
    recv_str (full, "A");
    set_int (xpub, ZMQ_SNDTIMEO, 1000);
    send_str (xpub, "A2", 0);
    recv_str (full, "A");
    recv_str (full, "A2");
    TEST_OK (zmq_close (full));
    TEST_OK (zmq_close (other));
    TEST_OK (zmq_close (xpub));
}

static void test_xsub_send (void *ctx)
{
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    set_int (xpub, ZMQ_XPUB_VERBOSER, 1);
    TEST_OK (zmq_bind (xpub, "inproc://xsubsend"));
    void *xsub = zmq_socket (ctx, ZMQ_XSUB);
    TEST_FAIL (zmq_setsockopt (xsub, ZMQ_SUBSCRIBE, "A", 1), EINVAL);
    TEST_ASSERT (events (xsub) == ZMQ_POLLOUT);
    TEST_OK (zmq_connect (xsub, "inproc://xsubsend"));
    /*  Subscriptions all go upstream; unsubscriptions only for the last holder.  */
    send_sub (xsub, 1, "A", 0);
    send_sub (xsub, 1, "A", 0);
    send_sub (xsub, 0, "A", 0);
    send_sub (xsub, 0, "A", 0);
    send_sub (xsub, 0, "A", 0);
    send_sub (xsub, 0, "Z", 0);
    /*  Other messages go upstream as they are, multipart too; subscriptions inside a
        multipart message are still subscriptions.  */
    send_str (xsub, "user", ZMQ_SNDMORE);
    send_sub (xsub, 1, "M", ZMQ_SNDMORE);
    send_sub (xsub, 0, "M", 0);
    send_str (xsub, "", 0);
    recv_sub (xpub, 1, "A");
    recv_sub (xpub, 1, "A");
    recv_sub (xpub, 0, "A");
    recv_bytes (xpub, "user", 4, 1);
    recv_sub (xpub, 1, "M"); /* delivered on its own, MORE cleared */
    recv_sub (xpub, 0, "M");
    recv_bytes (xpub, "", 0, 0);
    expect_nothing (xpub, 20);
    /*  XPUB filters for the XSUB, which passes everything it gets.  */
    send_sub (xsub, 1, "B", 0);
    recv_sub (xpub, 1, "B");
    send_str (xpub, "B1", ZMQ_SNDMORE);
    send_str (xpub, "x", 0);
    send_str (xpub, "C1", 0);
    TEST_ASSERT (events (xsub) == (ZMQ_POLLIN | ZMQ_POLLOUT));
    recv_bytes (xsub, "B1", 2, 1);
    recv_bytes (xsub, "x", 1, 0);
    expect_nothing (xsub, 20);
    TEST_OK (zmq_close (xsub));
    recv_sub (xpub, 0, "B");
    TEST_OK (zmq_close (xpub));
}

static void test_xsub_resends (void *ctx)
{
    void *xsub = zmq_socket (ctx, ZMQ_XSUB);
    /*  Before any publisher: kept, and sent to each one that comes, once per topic.  */
    send_sub (xsub, 1, "B", 0);
    send_sub (xsub, 1, "A", 0);
    send_sub (xsub, 1, "A", 0);
    send_sub (xsub, 1, "C", 0);
    send_sub (xsub, 0, "C", 0);
    send_str (xsub, "dropped", 0);
    TEST_OK (zmq_connect (xsub, "inproc://resend1"));
    void *x1 = zmq_socket (ctx, ZMQ_XPUB);
    set_int (x1, ZMQ_XPUB_VERBOSE, 1);
    TEST_OK (zmq_bind (x1, "inproc://resend1"));
    recv_sub (x1, 1, "A");
    recv_sub (x1, 1, "B");
    expect_nothing (x1, 20);
    void *x2 = zmq_socket (ctx, ZMQ_XPUB);
    TEST_OK (zmq_bind (x2, "inproc://resend2"));
    TEST_OK (zmq_connect (xsub, "inproc://resend2"));
    recv_sub (x2, 1, "A");
    recv_sub (x2, 1, "B");
    expect_nothing (x2, 20);
    /*  Later subscriptions reach both.  */
    send_sub (xsub, 1, "D", 0);
    recv_sub (x1, 1, "D");
    recv_sub (x2, 1, "D");
    /*  Both publishers' messages arrive, fair-queued.  */
    send_str (x1, "D1", 0);
    send_str (x2, "D2", 0);
    char buf[8];
    int seen = 0;
    for (int i = 0; i < 2; i++) {
        TEST_ASSERT (zmq_recv (xsub, buf, sizeof buf, 0) == 2);
        TEST_ASSERT (buf[0] == 'D' && (buf[1] == '1' || buf[1] == '2'));
        seen |= 1 << (buf[1] - '1');
    }
    TEST_ASSERT (seen == 3);
    TEST_OK (zmq_close (xsub));
    TEST_OK (zmq_close (x1));
    TEST_OK (zmq_close (x2));
}

static void test_only_first_subscribe (void *ctx)
{
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    set_int (xpub, ZMQ_ONLY_FIRST_SUBSCRIBE, 1);
    TEST_OK (zmq_bind (xpub, "inproc://onlyfirst"));
    void *xsub = zmq_socket (ctx, ZMQ_XSUB);
    set_int (xsub, ZMQ_ONLY_FIRST_SUBSCRIBE, 1);
    TEST_OK (zmq_connect (xsub, "inproc://onlyfirst"));
    /*  A first part that is a subscription makes the rest subscriptions too...  */
    send_sub (xsub, 1, "A", ZMQ_SNDMORE);
    send_sub (xsub, 1, "B", ZMQ_SNDMORE);
    send_sub (xsub, 1, "C", ZMQ_SNDMORE);
    send_sub (xsub, 0, "C", 0);
    /*  ...one that is not makes the rest plain data.  */
    send_str (xsub, "E", ZMQ_SNDMORE);
    send_sub (xsub, 1, "F", 0);
    recv_sub (xpub, 1, "A");
    recv_sub (xpub, 1, "B");
    recv_sub (xpub, 1, "C");
    recv_sub (xpub, 0, "C");
    recv_bytes (xpub, "E", 1, 1);
    recv_bytes (xpub, "\1F", 2, 0);
    expect_nothing (xpub, 20);
    send_str (xpub, "F", 0);
    send_str (xpub, "C", 0);
    send_str (xpub, "B", 0);
    recv_str (xsub, "B");
    expect_nothing (xsub, 20);
    TEST_OK (zmq_close (xsub));
    TEST_OK (zmq_close (xpub));
}

/*  PUB is XPUB without receiving: subscriptions are used, never shown.  */
static void test_pub_ignores_upstream (void *ctx)
{
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    TEST_OK (zmq_bind (pub, "inproc://pubup"));
    void *xsub = zmq_socket (ctx, ZMQ_XSUB);
    TEST_OK (zmq_connect (xsub, "inproc://pubup"));
    send_str (xsub, "user data", 0);
    send_sub (xsub, 1, "A", 0);
    /*  Publish until the subscription has arrived.  */
    char buf[16];
    set_int (xsub, ZMQ_RCVTIMEO, 10);
    int got = 0;
    for (int i = 0; i < 1000 && !got; i++) {
        send_str (pub, "A", 0);
        got = zmq_recv (xsub, buf, sizeof buf, 0) == 1;
    }
    TEST_ASSERT (got);
    TEST_ASSERT (events (pub) == ZMQ_POLLOUT);
    TEST_FAIL (zmq_recv (pub, buf, sizeof buf, ZMQ_DONTWAIT), ENOTSUP);
    TEST_OK (zmq_close (xsub));
    TEST_OK (zmq_close (pub));
}

static void test_topics_count (void *ctx)
{
#ifdef ZMQ_TOPICS_COUNT
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    TEST_OK (zmq_bind (xpub, "inproc://count"));
    void *a = zmq_socket (ctx, ZMQ_SUB);
    void *b = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_connect (a, "inproc://count"));
    TEST_OK (zmq_connect (b, "inproc://count"));
    subscribe (a, "x");
    subscribe (a, "y");
    subscribe (a, "y");
    subscribe (b, "y");
    subscribe (b, "z");
    recv_sub (xpub, 1, "x");
    recv_sub (xpub, 1, "y");
    recv_sub (xpub, 1, "z");
    int n;
    size_t sz = sizeof n;
    TEST_OK (zmq_getsockopt (xpub, ZMQ_TOPICS_COUNT, &n, &sz));
    TEST_ASSERT (n == 3);
    TEST_OK (zmq_getsockopt (a, ZMQ_TOPICS_COUNT, &n, &sz));
    TEST_ASSERT (n == 2);
    TEST_OK (zmq_close (a));
    recv_sub (xpub, 0, "x");
    TEST_OK (zmq_getsockopt (xpub, ZMQ_TOPICS_COUNT, &n, &sz));
    TEST_ASSERT (n == 2);
    TEST_OK (zmq_close (b));
    TEST_OK (zmq_close (xpub));
#else
    (void) ctx;
#endif
}

/*  Random subscribes, unsubscribes and closes by several SUBs, checked against a model
    of what a default XPUB reports: a topic's first subscriber and its last leaving.  */
#define NSLOTS 6
#define NT 6
static const char *const topics[NT] = {"", "a", "ab", "abc", "b", "x"}; /* byte order */

static void test_random_against_model (void *ctx)
{
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    TEST_OK (zmq_bind (xpub, "inproc://model"));
    /*  Toggles a topic of its own after each step: once XPUB reports it, everything the
        step caused has been reported before it.  */
    void *sentinel = zmq_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_connect (sentinel, "inproc://model"));
    void *subs[NSLOTS] = {0};
    int count[NSLOTS][NT] = {{0}};
    unsigned seed = 12345;
    for (int step = 0; step < 1500; step++) {
        seed = seed * 1103515245 + 12345;
        int slot = (seed >> 16) % NSLOTS;
        int t = (seed >> 8) % NT;
        int op = (seed >> 20) % 8;
        /*  Holders of a topic other than `slot`.  */
        int others = 0;
        for (int i = 0; i < NSLOTS; i++)
            others += i != slot && count[i][t] > 0;
        if (!subs[slot]) {
            subs[slot] = zmq_socket (ctx, ZMQ_SUB);
            TEST_OK (zmq_connect (subs[slot], "inproc://model"));
        } else if (op < 4) {
            subscribe (subs[slot], topics[t]);
            if (count[slot][t]++ == 0 && others == 0)
                recv_sub (xpub, 1, topics[t]);
        } else if (op < 7) {
            unsubscribe (subs[slot], topics[t]);
            if (count[slot][t] > 0 && --count[slot][t] == 0 && others == 0)
                recv_sub (xpub, 0, topics[t]);
        } else {
            TEST_OK (zmq_close (subs[slot]));
            subs[slot] = NULL;
            for (int u = 0; u < NT; u++) {
                int held = 0;
                for (int i = 0; i < NSLOTS; i++)
                    held += i != slot && count[i][u] > 0;
                if (count[slot][u] > 0 && held == 0)
                    recv_sub (xpub, 0, topics[u]);
                count[slot][u] = 0;
            }
        }
        if (step % 2 == 0)
            subscribe (sentinel, "~");
        else
            unsubscribe (sentinel, "~");
        recv_sub (xpub, step % 2 == 0, "~");
    }
    for (int i = 0; i < NSLOTS; i++)
        if (subs[i])
            TEST_OK (zmq_close (subs[i]));
    TEST_OK (zmq_close (sentinel));
    TEST_OK (zmq_close (xpub));
}

int main (void)
{
    test_setup (60);
    void *ctx = zmq_ctx_new ();
    test_xpub_basics (ctx);
    test_verbose (ctx, 0);
    test_verbose (ctx, 1);
    test_verbose (ctx, 2);
    test_unsubscribe_on_close (ctx);
    test_manual (ctx);
    test_manual_last_value (ctx);
    test_welcome (ctx);
    test_nodrop (ctx);
    test_xsub_send (ctx);
    test_xsub_resends (ctx);
    test_only_first_subscribe (ctx);
    test_pub_ignores_upstream (ctx);
    test_topics_count (ctx);
    test_random_against_model (ctx);
    TEST_OK (zmq_ctx_term (ctx));
    return 0;
}
