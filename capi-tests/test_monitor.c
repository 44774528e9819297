/*  zmq_socket_monitor: the events of a socket's tcp/ipc life in the order and with the
    values and endpoints libzmq 4.3 gives them, event masks, stopping, errors; and the draft
    zmq_socket_monitor_versioned format 2 (local and remote endpoints, PUB/PUSH monitors).  */
#define ZMQ_BUILD_DRAFT_API
#include "netutil.h"

/*  A connection over tcp from start to end, both sides monitored.  */
static void test_lifecycle_tcp (void *ctx)
{
    void *b = new_socket (ctx, ZMQ_PAIR);
    void *c = new_socket (ctx, ZMQ_PAIR);
    void *mb = monitor_open (ctx, b, "inproc://mon-b", ZMQ_EVENT_ALL);
    void *mc = monitor_open (ctx, c, "inproc://mon-c", ZMQ_EVENT_ALL);
    char bound[256], given[256], local[256];
    bind_at (b, "tcp://*:*", bound, sizeof bound);
    TEST_ASSERT (strncmp (bound, "tcp://0.0.0.0:", 14) == 0);
    uint32_t lfd = expect_event (mb, ZMQ_EVENT_LISTENING, bound);
    TEST_ASSERT (lfd > 2);

    snprintf (given, sizeof given, "tcp://localhost:%d", port_of (bound));
    TEST_OK (zmq_connect (c, given));
    /*  The connecting side names the address as given; CONNECT_DELAYED carries
        EINPROGRESS.  */
    uint32_t v = expect_event (mc, ZMQ_EVENT_CONNECT_DELAYED, given);
    TEST_ASSERT (!SESSION_FIXED || v == EINPROGRESS);
    uint32_t cfd = expect_event (mc, ZMQ_EVENT_CONNECTED, given);
    TEST_ASSERT (cfd > 2 && cfd != lfd);
    expect_event (mc, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, given);

    /*  The accepting side names the connection's own local address, not the wildcard.  */
    snprintf (local, sizeof local, "tcp://127.0.0.1:%d", port_of (bound));
    const char *accepted = SESSION_FIXED ? local : NULL;
    uint32_t afd = expect_event (mb, ZMQ_EVENT_ACCEPTED, accepted);
    TEST_ASSERT (afd > 2 && afd != lfd);
    expect_event (mb, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, accepted);

    send_str (c, "hello");
    recv_str (b, "hello");

    /*  A socket closing ends its connections without an event: its monitor only stops.  */
    TEST_OK (zmq_close (c));
    expect_event (mc, ZMQ_EVENT_MONITOR_STOPPED, "");
    expect_no_event (mc, 100);
    /*  The peer sees the connection go, with the fd ACCEPTED reported.  */
    TEST_ASSERT (expect_event (mb, ZMQ_EVENT_DISCONNECTED, accepted) == afd);

    /*  Closing the listener comes before the monitor stops.  */
    TEST_OK (zmq_close (b));
    TEST_ASSERT (expect_event (mb, ZMQ_EVENT_CLOSED, bound) == lfd);
    expect_event (mb, ZMQ_EVENT_MONITOR_STOPPED, "");
    expect_no_event (mb, 50);
    TEST_OK (zmq_close (mb));
    TEST_OK (zmq_close (mc));
}

/*  The same over ipc: a Unix connect completes at once (no CONNECT_DELAYED).  */
static void test_lifecycle_ipc (void *ctx)
{
    void *b = new_socket (ctx, ZMQ_PULL);
    void *c = new_socket (ctx, ZMQ_PUSH);
    void *mb = monitor_open (ctx, b, "inproc://mon-ipc-b", ZMQ_EVENT_ALL);
    void *mc = monitor_open (ctx, c, "inproc://mon-ipc-c", ZMQ_EVENT_ALL);
    const char *ep = "ipc://@ferrozmq-test-monitor";
    TEST_OK (zmq_bind (b, ep));
    expect_event (mb, ZMQ_EVENT_LISTENING, ep);
    TEST_OK (zmq_connect (c, ep));
    if (SESSION_FIXED)
        expect_event (mc, ZMQ_EVENT_CONNECTED, ep);
    else
        expect_event_skip (mc, ZMQ_EVENT_CONNECTED, ZMQ_EVENT_CONNECT_DELAYED, 5000, NULL, 0);
    expect_event (mc, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, ep);
    expect_event (mb, ZMQ_EVENT_ACCEPTED, ep);
    expect_event (mb, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, ep);
    send_str (c, "over ipc");
    recv_str (b, "over ipc");

    /*  Unbinding closes the listener; the connection it accepted goes too (once the socket
        processes its commands), without an event on this side; the peer sees it go and
        retries.  */
    TEST_OK (zmq_unbind (b, ep));
    expect_event (mb, ZMQ_EVENT_CLOSED, ep);
    recv_nothing (b, 100);
    expect_event (mc, ZMQ_EVENT_DISCONNECTED, ep);
    expect_no_event (mb, 50);
    uint32_t ivl = expect_event (mc, ZMQ_EVENT_CONNECT_RETRIED, ep);
    TEST_ASSERT (ivl >= 100 && ivl < 200);
    /*  A failed Unix connect closes its socket (CLOSED) before retrying.  */
    if (SESSION_FIXED) {
        expect_event (mc, ZMQ_EVENT_CLOSED, ep);
        expect_event (mc, ZMQ_EVENT_CONNECT_RETRIED, ep);
    }
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (b));
    TEST_OK (zmq_close (mb));
    TEST_OK (zmq_close (mc));
}

/*  A bind that fails: the socket libzmq had opened is reported closed (no endpoint yet),
    then BIND_FAILED with the errno and the address without its transport prefix.  */
static void test_bind_failed (void *ctx)
{
    void *a = new_socket (ctx, ZMQ_PULL);
    void *b = new_socket (ctx, ZMQ_PULL);
    void *mb = monitor_open (ctx, b, "inproc://mon-bind-failed", ZMQ_EVENT_ALL);
    char ep[256];
    bind_at (a, "tcp://127.0.0.1:*", ep, sizeof ep);
    TEST_FAIL (zmq_bind (b, ep), EADDRINUSE);
    TEST_ASSERT (expect_event (mb, ZMQ_EVENT_CLOSED, "") > 2);
    TEST_ASSERT (expect_event (mb, ZMQ_EVENT_BIND_FAILED, ep + 6) == EADDRINUSE);
    /*  Nothing was opened for an unknown interface.  */
    TEST_FAIL (zmq_bind (b, "tcp://nosuchif:*"), ENODEV);
    TEST_ASSERT (expect_event (mb, ZMQ_EVENT_BIND_FAILED, "nosuchif:*") == ENODEV);
    /*  ipc knows its endpoint when the bind fails.  */
    TEST_FAIL (zmq_bind (b, "ipc:///nonexistent-dir/x.sock"), ENOENT);
    expect_event (mb, ZMQ_EVENT_CLOSED, "ipc:///nonexistent-dir/x.sock");
    TEST_ASSERT (expect_event (mb, ZMQ_EVENT_BIND_FAILED, "/nonexistent-dir/x.sock") == ENOENT);
    expect_no_event (mb, 50);
    TEST_OK (zmq_close (a));
    TEST_OK (zmq_close (b));
    TEST_OK (zmq_close (mb));
}

/*  Refused connections: DELAYED, CLOSED, RETRIED with libzmq's jittered back-off: the
    interval is the current base plus up to ZMQ_RECONNECT_IVL, the base doubling to
    ZMQ_RECONNECT_IVL_MAX.  */
static void test_connect_retried (void *ctx)
{
    void *c = new_socket (ctx, ZMQ_PUSH);
    set_int (c, ZMQ_RECONNECT_IVL, 50);
    set_int (c, ZMQ_RECONNECT_IVL_MAX, 200);
    void *mc = monitor_open (ctx, c, "inproc://mon-retried", ZMQ_EVENT_ALL);
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", free_port ());
    TEST_OK (zmq_connect (c, ep));
    const uint32_t bases[] = {50, 100, 200, 200};
    for (int i = 0; i < 4; i++) {
        uint32_t v = expect_event (mc, ZMQ_EVENT_CONNECT_DELAYED, ep);
        TEST_ASSERT (!SESSION_FIXED || v == EINPROGRESS);
        TEST_ASSERT (expect_event (mc, ZMQ_EVENT_CLOSED, ep) > 2);
        uint32_t ivl = expect_event (mc, ZMQ_EVENT_CONNECT_RETRIED, ep);
        if (ivl < bases[i] || ivl >= bases[i] + 50) {
            fprintf (stderr, "retry %d: interval %u, expected [%u, %u)\n", i, ivl, bases[i],
                     bases[i] + 50);
            TEST_ASSERT (0);
        }
    }
    TEST_OK (zmq_close (c));
    expect_event (mc, ZMQ_EVENT_MONITOR_STOPPED, "");
    TEST_OK (zmq_close (mc));

    /*  A name that does not resolve: no socket, so only RETRIED, with the name given.  */
    c = new_socket (ctx, ZMQ_PUSH);
    mc = monitor_open (ctx, c, "inproc://mon-retried-name", ZMQ_EVENT_ALL);
    TEST_OK (zmq_connect (c, "tcp://nosuchhost.invalid:5555"));
    expect_event (mc, ZMQ_EVENT_CONNECT_RETRIED, "tcp://nosuchhost.invalid:5555");
    expect_event (mc, ZMQ_EVENT_CONNECT_RETRIED, "tcp://nosuchhost.invalid:5555");
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (mc));
}

/*  After a connection to a host name, libzmq names the resolved address in the events of
    the next round of connecting.  */
static void test_reconnect_names_resolved (void *ctx)
{
    void *b = new_socket (ctx, ZMQ_PULL);
    void *c = new_socket (ctx, ZMQ_PUSH);
    char bound[256], given[256];
    bind_at (b, "tcp://127.0.0.1:*", bound, sizeof bound);
    snprintf (given, sizeof given, "tcp://localhost:%d", port_of (bound));
    void *mc = monitor_open (ctx, c, "inproc://mon-resolved", ZMQ_EVENT_ALL);
    TEST_OK (zmq_connect (c, given));
    expect_event (mc, ZMQ_EVENT_CONNECT_DELAYED, given);
    expect_event (mc, ZMQ_EVENT_CONNECTED, given);
    expect_event (mc, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, given);
    TEST_OK (zmq_close (b));
    expect_event (mc, ZMQ_EVENT_DISCONNECTED, given);
    expect_event (mc, ZMQ_EVENT_CONNECT_RETRIED, SESSION_FIXED ? bound : NULL);
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (mc));
}

/*  Only the events asked for.  */
static void test_mask (void *ctx)
{
    void *b = new_socket (ctx, ZMQ_PAIR);
    void *c = new_socket (ctx, ZMQ_PAIR);
    char ep[256];
    bind_at (b, "tcp://127.0.0.1:*", ep, sizeof ep);
    void *mc =
      monitor_open (ctx, c, "inproc://mon-mask", ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED);
    set_int (c, ZMQ_RECONNECT_IVL, 20);
    TEST_OK (zmq_connect (c, ep));
    expect_event (mc, ZMQ_EVENT_CONNECTED, ep);
    TEST_OK (zmq_close (b));
    expect_event (mc, ZMQ_EVENT_DISCONNECTED, ep);
    /*  Retries happen but are not reported, nor is the monitor's end.  */
    expect_no_event (mc, 200);
    TEST_OK (zmq_close (c));
    expect_no_event (mc, 100);
    TEST_OK (zmq_close (mc));
}

/*  Stopping with a NULL endpoint, and replacing a monitor.  */
static void test_stop (void *ctx)
{
    void *b = new_socket (ctx, ZMQ_PULL);
    char ep[256];
    void *m1 = monitor_open (ctx, b, "inproc://mon-stop-1", ZMQ_EVENT_ALL);
    void *m2 = monitor_open (ctx, b, "inproc://mon-stop-2", ZMQ_EVENT_ALL);
    expect_event (m1, ZMQ_EVENT_MONITOR_STOPPED, "");
    bind_at (b, "tcp://127.0.0.1:*", ep, sizeof ep);
    expect_event (m2, ZMQ_EVENT_LISTENING, ep);
    expect_no_event (m1, 50);
    TEST_OK (zmq_socket_monitor (b, NULL, 0));
    expect_event (m2, ZMQ_EVENT_MONITOR_STOPPED, "");
    TEST_OK (zmq_unbind (b, ep));
    expect_no_event (m2, 100);
    /*  Stopping again is harmless; the endpoint is free for a new monitor.  */
    TEST_OK (zmq_socket_monitor (b, NULL, 0));
    void *m3 = monitor_open (ctx, b, "inproc://mon-stop-1", ZMQ_EVENT_MONITOR_STOPPED);
    TEST_OK (zmq_close (b));
    expect_event (m3, ZMQ_EVENT_MONITOR_STOPPED, "");
    TEST_OK (zmq_close (m1));
    TEST_OK (zmq_close (m2));
    TEST_OK (zmq_close (m3));
}

static void test_errors (void *ctx)
{
    void *s = new_socket (ctx, ZMQ_PAIR);
    TEST_FAIL (zmq_socket_monitor (s, "tcp://127.0.0.1:5555", ZMQ_EVENT_ALL), EPROTONOSUPPORT);
    TEST_FAIL (zmq_socket_monitor (s, "ipc://@mon", ZMQ_EVENT_ALL), EPROTONOSUPPORT);
    TEST_FAIL (zmq_socket_monitor (s, "foo://bar", ZMQ_EVENT_ALL), EPROTONOSUPPORT);
    TEST_FAIL (zmq_socket_monitor (s, "nonsense", ZMQ_EVENT_ALL), EINVAL);
    TEST_FAIL (zmq_socket_monitor (NULL, "inproc://mon-null", ZMQ_EVENT_ALL), ENOTSOCK);
    void *other = new_socket (ctx, ZMQ_PAIR);
    TEST_OK (zmq_bind (other, "inproc://mon-taken"));
    TEST_FAIL (zmq_socket_monitor (s, "inproc://mon-taken", ZMQ_EVENT_ALL), EADDRINUSE);
    TEST_OK (zmq_close (other));
    TEST_OK (zmq_close (s));
}

/*  A handshake that never completes (the peer's kernel accepted, the peer never speaks):
    HANDSHAKE_FAILED_NO_DETAIL then DISCONNECTED, and a retry.  */
static void test_handshake_timeout (void *ctx)
{
    int lfd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    TEST_ASSERT (bind (lfd, (struct sockaddr *) &a, sizeof a) == 0);
    TEST_ASSERT (listen (lfd, 8) == 0);
    socklen_t l = sizeof a;
    TEST_ASSERT (getsockname (lfd, (struct sockaddr *) &a, &l) == 0);
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", ntohs (a.sin_port));
    void *c = new_socket (ctx, ZMQ_DEALER);
    set_int (c, ZMQ_HANDSHAKE_IVL, 100);
    void *mc = monitor_open (ctx, c, "inproc://mon-hs", ZMQ_EVENT_ALL);
    TEST_OK (zmq_connect (c, ep));
    expect_event (mc, ZMQ_EVENT_CONNECT_DELAYED, ep);
    expect_event (mc, ZMQ_EVENT_CONNECTED, ep);
    long t = now_ms ();
    expect_event (mc, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, ep);
    TEST_ASSERT (now_ms () - t >= 50);
    expect_event (mc, ZMQ_EVENT_DISCONNECTED, ep);
    expect_event (mc, ZMQ_EVENT_CONNECT_RETRIED, NULL);
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (mc));
    close (lfd);
}

/*  A TCP accept filter that rejects the peer: libzmq reports each rejected connection as
    ACCEPT_FAILED; the connecting side never completes a handshake.  */
static void test_accept_failed (void *ctx)
{
    void *b = new_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_setsockopt (b, ZMQ_TCP_ACCEPT_FILTER, "10.1.2.3", 8));
    void *mb = monitor_open (ctx, b, "inproc://mon-accept-failed", ZMQ_EVENT_ALL);
    char ep[256];
    bind_at (b, "tcp://127.0.0.1:*", ep, sizeof ep);
    expect_event (mb, ZMQ_EVENT_LISTENING, ep);
    void *c = new_socket (ctx, ZMQ_PUSH);
    void *mc = monitor_open (ctx, c, "inproc://mon-accept-failed-c", ZMQ_EVENT_ALL);
    TEST_OK (zmq_connect (c, ep));
    if (SESSION_FIXED)
        expect_event (mb, ZMQ_EVENT_ACCEPT_FAILED, ep);
    expect_event_skip (mc, ZMQ_EVENT_DISCONNECTED,
                       ZMQ_EVENT_CONNECT_DELAYED | ZMQ_EVENT_CONNECTED
                         | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL,
                       5000, NULL, 0);
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (b));
    if (SESSION_FIXED)
        expect_event_skip (mb, ZMQ_EVENT_CLOSED, ZMQ_EVENT_ACCEPT_FAILED, 5000, NULL, 0);
    TEST_OK (zmq_close (mb));
    TEST_OK (zmq_close (mc));
}

#ifndef LIBZMQ_REFERENCE
/*  Reads one version-2 event: the event, its values, the local and remote endpoints.  */
static uint64_t read_event_v2 (void *mon, int ms, uint64_t *value, char *local, char *remote)
{
    zmq_msg_t m;
    zmq_msg_init (&m);
    set_int (mon, ZMQ_RCVTIMEO, ms);
    if (zmq_msg_recv (&m, mon, 0) == -1) {
        zmq_msg_close (&m);
        return 0;
    }
    uint64_t event, count, v;
    TEST_ASSERT (zmq_msg_size (&m) == 8 && zmq_msg_more (&m));
    memcpy (&event, zmq_msg_data (&m), 8);
    TEST_ASSERT (zmq_msg_recv (&m, mon, 0) == 8 && zmq_msg_more (&m));
    memcpy (&count, zmq_msg_data (&m), 8);
    TEST_ASSERT (count == 1);
    TEST_ASSERT (zmq_msg_recv (&m, mon, 0) == 8 && zmq_msg_more (&m));
    memcpy (&v, zmq_msg_data (&m), 8);
    int n = zmq_msg_recv (&m, mon, 0);
    TEST_ASSERT (n >= 0 && n < 256 && zmq_msg_more (&m));
    memcpy (local, zmq_msg_data (&m), n);
    local[n] = 0;
    n = zmq_msg_recv (&m, mon, 0);
    TEST_ASSERT (n >= 0 && n < 256 && !zmq_msg_more (&m));
    memcpy (remote, zmq_msg_data (&m), n);
    remote[n] = 0;
    zmq_msg_close (&m);
    *value = v;
    return event;
}

static void expect_v2 (void *mon, uint64_t want, const char *local, const char *remote)
{
    uint64_t v;
    char l[256], r[256];
    uint64_t ev = read_event_v2 (mon, 5000, &v, l, r);
    if (ev != want || (local && strcmp (l, local) != 0) || (remote && strcmp (r, remote) != 0)) {
        fprintf (stderr, "v2: got 0x%llx '%s' '%s', expected 0x%llx '%s' '%s'\n",
                 (unsigned long long) ev, l, r, (unsigned long long) want,
                 local ? local : "*", remote ? remote : "*");
        TEST_ASSERT (0);
    }
}

static void skip_v2_until (void *mon, uint64_t want)
{
    uint64_t v;
    char l[256], r[256];
    uint64_t ev;
    while ((ev = read_event_v2 (mon, 5000, &v, l, r)) != want)
        TEST_ASSERT (ev != 0);
}

/*  Waits until monitor socket `mon` (fed by `s`'s versioned monitor) receives events: a SUB's
    subscription or a PULL's inproc connection reaches the monitor's PUB/PUSH only once that
    socket has processed its commands. Each round binds and unbinds `s` (LISTENING, CLOSED)
    and polls briefly; once anything arrives, events up to the CLOSED of the last round are
    skipped, so the next event read is the caller's. Bounded: 5 s.  */
static void sync_v2 (void *s, void *mon)
{
    char ep[256], l[256], r[256];
    uint64_t v, ev;
    long deadline = now_ms () + 5000;
    do {
        TEST_ASSERT (now_ms () < deadline);
        bind_at (s, "tcp://127.0.0.1:*", ep, sizeof ep);
        TEST_OK (zmq_unbind (s, ep));
        ev = read_event_v2 (mon, 50, &v, l, r);
    } while (ev == 0);
    while (ev != ZMQ_EVENT_CLOSED || strcmp (l, ep) != 0) {
        ev = read_event_v2 (mon, 5000, &v, l, r);
        TEST_ASSERT (ev != 0);
    }
}

/*  Format 2 on PUB and PUSH monitor sockets: both endpoints of each event.  */
static void test_versioned (void *ctx)
{
    void *b = new_socket (ctx, ZMQ_PULL);
    void *c = new_socket (ctx, ZMQ_PUSH);
    TEST_FAIL (zmq_socket_monitor_versioned (b, "inproc://v2", ZMQ_EVENT_ALL_V2, 2, ZMQ_SUB),
               EINVAL);
    TEST_FAIL (zmq_socket_monitor_versioned (b, "inproc://v2", ZMQ_EVENT_PIPES_STATS, 1, ZMQ_PAIR),
               EINVAL);
    TEST_FAIL (zmq_socket_monitor_versioned (b, "tcp://127.0.0.1:1", ZMQ_EVENT_ALL_V2, 2, ZMQ_PAIR),
               EPROTONOSUPPORT);
    TEST_OK (zmq_socket_monitor_versioned (b, "inproc://v2-b", ZMQ_EVENT_ALL_V2, 2, ZMQ_PUB));
    void *mb = new_socket (ctx, ZMQ_SUB);
    TEST_OK (zmq_setsockopt (mb, ZMQ_SUBSCRIBE, "", 0));
    TEST_OK (zmq_connect (mb, "inproc://v2-b"));
    TEST_OK (zmq_socket_monitor_versioned (c, "inproc://v2-c", ZMQ_EVENT_ALL_V2, 2, ZMQ_PUSH));
    void *mc = new_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_connect (mc, "inproc://v2-c"));
    sync_v2 (b, mb);
    sync_v2 (c, mc);

    char bound[256], given[256], local[256], peer[256];
    bind_at (b, "tcp://*:*", bound, sizeof bound);
    expect_v2 (mb, ZMQ_EVENT_LISTENING, bound, "");
    snprintf (given, sizeof given, "tcp://127.0.0.1:%d", port_of (bound));
    TEST_OK (zmq_connect (c, given));
    /*  Before connecting there is no local endpoint.  */
    expect_v2 (mc, ZMQ_EVENT_CONNECT_DELAYED, SESSION_FIXED ? "" : NULL, SESSION_FIXED ? given : NULL);
    uint64_t v;
    char l[256], r[256];
    TEST_ASSERT (read_event_v2 (mc, 5000, &v, l, r) == ZMQ_EVENT_CONNECTED);
    TEST_ASSERT (v > 2);
    if (SESSION_FIXED) {
        TEST_ASSERT (strcmp (r, given) == 0);
        /*  The connection's own address on the connecting side...  */
        TEST_ASSERT (strncmp (l, "tcp://127.0.0.1:", 16) == 0);
        snprintf (peer, sizeof peer, "%s", l);
        snprintf (local, sizeof local, "tcp://127.0.0.1:%d", port_of (bound));
        /*  ...is the remote endpoint on the accepting side.  */
        expect_v2 (mb, ZMQ_EVENT_ACCEPTED, local, peer);
        expect_v2 (mb, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, local, peer);
        expect_v2 (mc, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, peer, given);
    }
    send_str (c, "v2");
    recv_str (b, "v2");
    TEST_OK (zmq_close (c));
    if (!SESSION_FIXED)
        skip_v2_until (mc, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    expect_v2 (mc, ZMQ_EVENT_MONITOR_STOPPED, "", "");
    TEST_OK (zmq_unbind (b, bound));
    if (SESSION_FIXED)
        expect_v2 (mb, ZMQ_EVENT_DISCONNECTED, local, peer);
    else
        skip_v2_until (mb, ZMQ_EVENT_DISCONNECTED);
    expect_v2 (mb, ZMQ_EVENT_CLOSED, bound, "");
    TEST_OK (zmq_close (b));
    expect_v2 (mb, ZMQ_EVENT_MONITOR_STOPPED, "", "");
    TEST_OK (zmq_close (mb));
    TEST_OK (zmq_close (mc));
}

/*  A PUB monitor's topic is the event number: subscribers pick events.  */
static void test_versioned_topics (void *ctx)
{
    void *b = new_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_socket_monitor_versioned (b, "inproc://v2-topic", ZMQ_EVENT_ALL_V2, 2, ZMQ_PUB));
    void *mb = new_socket (ctx, ZMQ_SUB);
    uint64_t want = ZMQ_EVENT_CLOSED;
    TEST_OK (zmq_setsockopt (mb, ZMQ_SUBSCRIBE, &want, sizeof want));
    TEST_OK (zmq_connect (mb, "inproc://v2-topic"));
    /*  Only CLOSED passes the subscription, and each round of sync_v2 ends with one.  */
    sync_v2 (b, mb);
    char ep[256];
    bind_at (b, "tcp://127.0.0.1:*", ep, sizeof ep);
    TEST_OK (zmq_unbind (b, ep));
    expect_v2 (mb, ZMQ_EVENT_CLOSED, ep, "");
    TEST_OK (zmq_close (b));
    uint64_t v;
    char l[256], r[256];
    TEST_ASSERT (read_event_v2 (mb, 100, &v, l, r) == 0);
    TEST_OK (zmq_close (mb));
}
#endif

int main (void)
{
    net_setup ();
    void *ctx = zmq_ctx_new ();
    TEST_ASSERT (ctx);
    test_lifecycle_tcp (ctx);
    test_lifecycle_ipc (ctx);
    test_bind_failed (ctx);
    test_connect_retried (ctx);
    test_reconnect_names_resolved (ctx);
    test_mask (ctx);
    test_stop (ctx);
    test_errors (ctx);
    test_handshake_timeout (ctx);
    test_accept_failed (ctx);
#ifndef LIBZMQ_REFERENCE
    test_versioned (ctx);
    test_versioned_topics (ctx);
#endif
    TEST_OK (zmq_ctx_term (ctx));
    return 0;
}
