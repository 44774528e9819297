/*  tcp://: address forms for bind and connect, ZMQ_LAST_ENDPOINT, unbind/disconnect keys,
    IPv6, source addresses, socket options on the wire sockets, ZMQ_USE_FD, accept filters,
    reconnection (ZMQ_RECONNECT_IVL/_MAX, draft ZMQ_RECONNECT_STOP), ZMQ_CONNECT_TIMEOUT,
    ZMQ_IMMEDIATE and ZMQ_LINGER; all as libzmq 4.3 behaves.  */
#define ZMQ_BUILD_DRAFT_API
#include "netutil.h"
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>

/*  Bind address forms and what ZMQ_LAST_ENDPOINT shows for them.  */
static void test_bind_forms (void *ctx)
{
    void *s = new_socket (ctx, ZMQ_PULL);
    char ep[256], ep2[256];
    bind_at (s, "tcp://127.0.0.1:*", ep, sizeof ep);
    TEST_ASSERT (strncmp (ep, "tcp://127.0.0.1:", 16) == 0 && port_of (ep) > 0);
    bind_at (s, "tcp://127.0.0.1:0", ep2, sizeof ep2);
    TEST_ASSERT (port_of (ep2) > 0 && port_of (ep2) != port_of (ep));
    bind_at (s, "tcp://*:*", ep, sizeof ep);
    TEST_ASSERT (strncmp (ep, "tcp://0.0.0.0:", 14) == 0);
    bind_at (s, "tcp://0.0.0.0:*", ep, sizeof ep);
    TEST_ASSERT (strncmp (ep, "tcp://0.0.0.0:", 14) == 0);
    /*  An interface name binds its address.  */
    bind_at (s, "tcp://lo:*", ep, sizeof ep);
    TEST_ASSERT (strncmp (ep, "tcp://127.0.0.1:", 16) == 0);
    /*  Binding never resolves host names; unknown names and interfaces are ENODEV.  */
    TEST_FAIL (zmq_bind (s, "tcp://localhost:*"), ENODEV);
    TEST_FAIL (zmq_bind (s, "tcp://nosuchif:5555"), ENODEV);
    TEST_FAIL (zmq_bind (s, "tcp://nosuchhost.invalid:5555"), ENODEV);
    TEST_FAIL (zmq_bind (s, "tcp://:5555"), ENODEV);
    TEST_FAIL (zmq_bind (s, "tcp://256.1.1.1:5555"), ENODEV);
    /*  IPv6 addresses need ZMQ_IPV6.  */
    TEST_FAIL (zmq_bind (s, "tcp://[::1]:*"), ENODEV);
    /*  Syntax: a port is required, numeric (atoi: 0 and 65536 are invalid), or '*'.  */
    TEST_FAIL (zmq_bind (s, "tcp://127.0.0.1"), EINVAL);
    TEST_FAIL (zmq_bind (s, "tcp://127.0.0.1:"), EINVAL);
    TEST_FAIL (zmq_bind (s, "tcp://127.0.0.1:abc"), EINVAL);
    TEST_FAIL (zmq_bind (s, "tcp://127.0.0.1:65536"), EINVAL);
    TEST_FAIL (zmq_bind (s, "tcp://127.0.0.1:0x10"), EINVAL);
    TEST_FAIL (zmq_bind (s, "tcp://127.0.0.1:*;"), EINVAL);
    TEST_FAIL (zmq_bind (s, "tcp://"), EINVAL);
    /*  An address of no interface here.  */
    TEST_FAIL (zmq_bind (s, "tcp://192.0.2.123:*"), EADDRNOTAVAIL);
    /*  A failed bind leaves ZMQ_LAST_ENDPOINT alone.  */
    TEST_ASSERT (strcmp (last_endpoint (s, ep2, sizeof ep2), ep) == 0);
    TEST_OK (zmq_close (s));
}

/*  EADDRINUSE, and the port free again after unbind.  */
static void test_addr_in_use (void *ctx)
{
    void *a = new_socket (ctx, ZMQ_PULL);
    void *b = new_socket (ctx, ZMQ_PULL);
    char ep[256];
    bind_at (a, "tcp://127.0.0.1:*", ep, sizeof ep);
    TEST_FAIL (zmq_bind (b, ep), EADDRINUSE);
    TEST_OK (zmq_unbind (a, ep));
    /*  The listener closes in the background: retry for a moment.  */
    long deadline = now_ms () + 2000;
    while (zmq_bind (b, ep) != 0) {
        TEST_ASSERT (errno == EADDRINUSE && now_ms () < deadline);
        usleep (5000);
    }
    void *c = new_socket (ctx, ZMQ_PUSH);
    TEST_OK (zmq_connect (c, ep));
    send_str (c, "rebound");
    recv_str (b, "rebound");
    TEST_OK (zmq_close (a));
    TEST_OK (zmq_close (b));
    TEST_OK (zmq_close (c));
}

/*  zmq_connect checks only the syntax; names resolve at each attempt.  */
static void test_connect_forms (void *ctx)
{
    void *c = new_socket (ctx, ZMQ_PUSH);
    char ep[256];
    TEST_FAIL (zmq_connect (c, "tcp://127.0.0.1"), EINVAL);
    TEST_FAIL (zmq_connect (c, "tcp://127.0.0.1:*"), EINVAL);
    TEST_FAIL (zmq_connect (c, "tcp://127.0.0.1:abc"), EINVAL);
    TEST_FAIL (zmq_connect (c, "tcp://127.0.0.1:-1"), EINVAL);
    TEST_FAIL (zmq_connect (c, "tcp://*:5555"), EINVAL);
    TEST_FAIL (zmq_connect (c, "tcp://bad host:5555"), EINVAL);
    TEST_FAIL (zmq_connect (c, "tcp://;127.0.0.1:5555"), EINVAL);
    TEST_FAIL (zmq_connect (c, "tcp://"), EINVAL);
    /*  Accepted now, failing (and retried) later.  */
    TEST_OK (zmq_connect (c, "tcp://nosuchhost.invalid:5555"));
    TEST_ASSERT (strcmp (last_endpoint (c, ep, sizeof ep), "tcp://nosuchhost.invalid:5555") == 0);
    TEST_OK (zmq_connect (c, "tcp://:5555"));
    TEST_OK (zmq_connect (c, "tcp://a_b:5555"));
    TEST_OK (zmq_connect (c, "tcp://[::1]:5555"));
    TEST_OK (zmq_connect (c, "tcp://nosuchif:0;127.0.0.1:5555"));
    TEST_OK (zmq_close (c));

    /*  Host names connect; ZMQ_LAST_ENDPOINT is the string given.  */
    void *b = new_socket (ctx, ZMQ_PULL);
    char bound[256];
    bind_at (b, "tcp://127.0.0.1:*", bound, sizeof bound);
    c = new_socket (ctx, ZMQ_PUSH);
    snprintf (ep, sizeof ep, "tcp://localhost:%d", port_of (bound));
    TEST_OK (zmq_connect (c, ep));
    char last[256];
    TEST_ASSERT (strcmp (last_endpoint (c, last, sizeof last), ep) == 0);
    send_str (c, "by name");
    recv_str (b, "by name");
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (b));
}

/*  zmq_unbind and zmq_disconnect find a bound endpoint by its resolved form and a connect
    by the string given; else by the address resolved (so wildcards never match). Both end
    every endpoint with that key, of either kind.  */
static void test_unbind_disconnect_keys (void *ctx)
{
    void *s = new_socket (ctx, ZMQ_PULL);
    char ep[256], alias[256];
    bind_at (s, "tcp://127.0.0.1:*", ep, sizeof ep);
    TEST_FAIL (zmq_unbind (s, "tcp://127.0.0.1:*"), ENOENT);
    TEST_OK (zmq_unbind (s, ep));
    TEST_FAIL (zmq_unbind (s, ep), ENOENT);

    bind_at (s, "tcp://*:*", ep, sizeof ep);
    TEST_FAIL (zmq_unbind (s, "tcp://*:*"), ENOENT);
    snprintf (alias, sizeof alias, "tcp://*:%d", port_of (ep));
    TEST_FAIL (zmq_unbind (s, alias), ENOENT);
    TEST_OK (zmq_unbind (s, ep));

    /*  A host name resolving to the bound address finds it; an interface name does not.  */
    bind_at (s, "tcp://lo:*", ep, sizeof ep);
    snprintf (alias, sizeof alias, "tcp://lo:%d", port_of (ep));
    TEST_FAIL (zmq_unbind (s, alias), ENOENT);
    snprintf (alias, sizeof alias, "tcp://localhost:%d", port_of (ep));
    TEST_OK (zmq_unbind (s, alias));

    void *c = new_socket (ctx, ZMQ_PUSH);
    int port = free_port ();
    snprintf (ep, sizeof ep, "tcp://localhost:%d", port);
    snprintf (alias, sizeof alias, "tcp://127.0.0.1:%d", port);
    TEST_OK (zmq_connect (c, ep));
    TEST_FAIL (zmq_disconnect (c, alias), ENOENT);
    TEST_OK (zmq_disconnect (c, ep));
    TEST_FAIL (zmq_disconnect (c, ep), ENOENT);
    /*  Two connects to one address go with one disconnect.  */
    TEST_OK (zmq_connect (c, alias));
    TEST_OK (zmq_connect (c, alias));
    TEST_OK (zmq_disconnect (c, alias));
    TEST_FAIL (zmq_disconnect (c, alias), ENOENT);
    /*  libzmq does not mind which call ends which kind.  */
    TEST_OK (zmq_connect (c, alias));
    TEST_OK (zmq_unbind (c, alias));
    TEST_FAIL (zmq_disconnect (c, alias), ENOENT);
    bind_at (c, "tcp://127.0.0.1:*", ep, sizeof ep);
    TEST_OK (zmq_disconnect (c, ep));
    TEST_FAIL (zmq_unbind (c, ep), ENOENT);
    TEST_FAIL (zmq_unbind (c, "tcp://"), EINVAL);
    TEST_FAIL (zmq_unbind (c, "foo://x"), EPROTONOSUPPORT);
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (s));
}

/*  Unbinding closes the connections accepted through the endpoint (once the socket
    processes its commands); the peer reconnects when the address is bound again.  */
static void test_unbind_closes_accepted (void *ctx)
{
    void *b = new_socket (ctx, ZMQ_PULL);
    void *c = new_socket (ctx, ZMQ_PUSH);
    set_int (c, ZMQ_RECONNECT_IVL, 20);
    char ep[256];
    bind_at (b, "tcp://127.0.0.1:*", ep, sizeof ep);
    void *mc = monitor_open (ctx, c, "inproc://tcp-unbind", ZMQ_EVENT_DISCONNECTED);
    TEST_OK (zmq_connect (c, ep));
    send_str (c, "first");
    recv_str (b, "first");
    TEST_OK (zmq_unbind (b, ep));
    recv_nothing (b, 100);
    expect_event (mc, ZMQ_EVENT_DISCONNECTED, ep);
    long deadline = now_ms () + 2000;
    while (zmq_bind (b, ep) != 0) {
        TEST_ASSERT (errno == EADDRINUSE && now_ms () < deadline);
        usleep (5000);
    }
    send_str (c, "second");
    recv_str (b, "second");
    TEST_OK (zmq_close (mc));
    TEST_OK (zmq_close (b));
    TEST_OK (zmq_close (c));
}

static int have_ipv6 (void)
{
    int fd = socket (AF_INET6, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in6 a;
    memset (&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    int ok = bind (fd, (struct sockaddr *) &a, sizeof a) == 0;
    close (fd);
    return ok;
}

static void peer_address (void *s, const char *expect)
{
    zmq_msg_t m;
    zmq_msg_init (&m);
    set_int (s, ZMQ_RCVTIMEO, 5000);
    TEST_ASSERT (zmq_msg_recv (&m, s, 0) >= 0);
    const char *peer = zmq_msg_gets (&m, "Peer-Address");
    if (!peer || strcmp (peer, expect) != 0) {
        fprintf (stderr, "Peer-Address %s, expected %s\n", peer ? peer : "(null)", expect);
        TEST_ASSERT (0);
    }
    zmq_msg_close (&m);
}

/*  ZMQ_IPV6: `*` binds IPv6 and accepts IPv4 too (as mapped addresses); IPv4 literals bind
    mapped; `[::1]` and `[::1%lo]` work; the context's ZMQ_IPV6 is its sockets' default.  */
static void test_ipv6 (void *ctx)
{
    if (!have_ipv6 ()) {
        fprintf (stderr, "no IPv6 loopback: skipping the IPv6 checks\n");
        return;
    }
    void *b = new_socket (ctx, ZMQ_PULL);
    set_int (b, ZMQ_IPV6, 1);
    TEST_ASSERT (get_int (b, ZMQ_IPV4ONLY) == 0);
    char ep[256], c_ep[256];
    bind_at (b, "tcp://*:*", ep, sizeof ep);
    TEST_ASSERT (strncmp (ep, "tcp://[::]:", 11) == 0);
    void *c4 = new_socket (ctx, ZMQ_PUSH);
    snprintf (c_ep, sizeof c_ep, "tcp://127.0.0.1:%d", port_of (ep));
    TEST_OK (zmq_connect (c4, c_ep));
    send_str (c4, "v4");
    peer_address (b, "::ffff:127.0.0.1");
    void *c6 = new_socket (ctx, ZMQ_PUSH);
    set_int (c6, ZMQ_IPV6, 1);
    snprintf (c_ep, sizeof c_ep, "tcp://[::1]:%d", port_of (ep));
    TEST_OK (zmq_connect (c6, c_ep));
    send_str (c6, "v6");
    peer_address (b, "::1");
    TEST_OK (zmq_unbind (b, ep));

    bind_at (b, "tcp://127.0.0.1:*", ep, sizeof ep);
    TEST_ASSERT (strncmp (ep, "tcp://[::ffff:127.0.0.1]:", 25) == 0);
    bind_at (b, "tcp://[::1]:*", ep, sizeof ep);
    TEST_ASSERT (strncmp (ep, "tcp://[::1]:", 12) == 0);
    bind_at (b, "tcp://[::1%lo]:*", ep, sizeof ep);
    TEST_ASSERT (strncmp (ep, "tcp://[::1]:", 12) == 0);
    TEST_FAIL (zmq_bind (b, "tcp://[::1%]:*"), EINVAL);
    /*  An interface name gives its IPv6 address.  */
    bind_at (b, "tcp://lo:*", ep, sizeof ep);
    TEST_ASSERT (strncmp (ep, "tcp://[::1]:", 12) == 0);

    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_IPV6) == 0);
    TEST_OK (zmq_ctx_set (ctx, ZMQ_IPV6, 1));
    void *d = new_socket (ctx, ZMQ_PULL);
    TEST_ASSERT (get_int (d, ZMQ_IPV6) == 1);
    bind_at (d, "tcp://*:*", ep, sizeof ep);
    TEST_ASSERT (strncmp (ep, "tcp://[::]:", 11) == 0);
    TEST_OK (zmq_ctx_set (ctx, ZMQ_IPV6, 0));
    TEST_OK (zmq_close (d));
    TEST_OK (zmq_close (c4));
    TEST_OK (zmq_close (c6));
    TEST_OK (zmq_close (b));
}

/*  The context's ZMQ_IPV6 and ZMQ_BLOCKY are the defaults of the sockets made after.  */
static void test_ctx_defaults (void)
{
    void *ctx = zmq_ctx_new ();
    void *a = zmq_socket (ctx, ZMQ_PUSH);
    TEST_ASSERT (get_int (a, ZMQ_IPV6) == 0 && get_int (a, ZMQ_LINGER) == -1);
    TEST_OK (zmq_ctx_set (ctx, ZMQ_IPV6, 1));
    TEST_OK (zmq_ctx_set (ctx, ZMQ_BLOCKY, 0));
    void *b = zmq_socket (ctx, ZMQ_PUSH);
    TEST_ASSERT (get_int (b, ZMQ_IPV6) == 1 && get_int (b, ZMQ_IPV4ONLY) == 0);
    TEST_ASSERT (get_int (b, ZMQ_LINGER) == 0);
    TEST_ASSERT (get_int (a, ZMQ_IPV6) == 0 && get_int (a, ZMQ_LINGER) == -1);
    TEST_OK (zmq_close (a));
    TEST_OK (zmq_close (b));
    TEST_OK (zmq_ctx_term (ctx));
}

/*  The file descriptor a message came through (ZMQ_SRCFD).  */
static int srcfd_of_next (void *s)
{
    zmq_msg_t m;
    zmq_msg_init (&m);
    set_int (s, ZMQ_RCVTIMEO, 5000);
    TEST_ASSERT (zmq_msg_recv (&m, s, 0) >= 0);
    int fd = zmq_msg_get (&m, ZMQ_SRCFD);
    zmq_msg_close (&m);
    TEST_ASSERT (fd > 2);
    return fd;
}

/*  `source;destination`: the connection comes from the source address (and port).  */
static void test_source_address (void *ctx)
{
    void *b = new_socket (ctx, ZMQ_PULL);
    char ep[256], c_ep[256];
    bind_at (b, "tcp://127.0.0.1:*", ep, sizeof ep);
    void *c = new_socket (ctx, ZMQ_PUSH);
    snprintf (c_ep, sizeof c_ep, "tcp://127.0.0.2:0;127.0.0.1:%d", port_of (ep));
    TEST_OK (zmq_connect (c, c_ep));
    send_str (c, "from .2");
    peer_address (b, "127.0.0.2");

    void *c2 = new_socket (ctx, ZMQ_PUSH);
    int src = free_port ();
    snprintf (c_ep, sizeof c_ep, "tcp://127.0.0.1:%d;127.0.0.1:%d", src, port_of (ep));
    TEST_OK (zmq_connect (c2, c_ep));
    send_str (c2, "from port");
    int fd = srcfd_of_next (b);
    struct sockaddr_in peer;
    socklen_t l = sizeof peer;
    TEST_ASSERT (getpeername (fd, (struct sockaddr *) &peer, &l) == 0);
    TEST_ASSERT (ntohs (peer.sin_port) == src);
    TEST_OK (zmq_disconnect (c2, c_ep));
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (c2));
    TEST_OK (zmq_close (b));
}

static int sockopt_int (int fd, int level, int name)
{
    int v = -1;
    socklen_t l = sizeof v;
    TEST_ASSERT (getsockopt (fd, level, name, &v, &l) == 0);
    return v;
}

static void tune (void *s)
{
    set_int (s, ZMQ_SNDBUF, 65536);
    set_int (s, ZMQ_RCVBUF, 98304);
    set_int (s, ZMQ_TCP_KEEPALIVE, 1);
    set_int (s, ZMQ_TCP_KEEPALIVE_IDLE, 77);
    set_int (s, ZMQ_TCP_KEEPALIVE_CNT, 7);
    set_int (s, ZMQ_TCP_KEEPALIVE_INTVL, 11);
    set_int (s, ZMQ_TOS, 0x28);
    set_int (s, ZMQ_TCP_MAXRT, 4321);
    set_int (s, ZMQ_BACKLOG, 5);
}

static void check_tuned (int fd)
{
    TEST_ASSERT (sockopt_int (fd, IPPROTO_TCP, TCP_NODELAY) == 1);
    /*  Linux doubles the buffer sizes it is given.  */
    TEST_ASSERT (sockopt_int (fd, SOL_SOCKET, SO_SNDBUF) >= 65536);
    TEST_ASSERT (sockopt_int (fd, SOL_SOCKET, SO_RCVBUF) >= 98304);
    TEST_ASSERT (sockopt_int (fd, SOL_SOCKET, SO_KEEPALIVE) == 1);
    TEST_ASSERT (sockopt_int (fd, IPPROTO_TCP, TCP_KEEPIDLE) == 77);
    TEST_ASSERT (sockopt_int (fd, IPPROTO_TCP, TCP_KEEPCNT) == 7);
    TEST_ASSERT (sockopt_int (fd, IPPROTO_TCP, TCP_KEEPINTVL) == 11);
    TEST_ASSERT (sockopt_int (fd, IPPROTO_IP, IP_TOS) == 0x28);
    TEST_ASSERT (sockopt_int (fd, IPPROTO_TCP, TCP_USER_TIMEOUT) == 4321);
}

/*  The TCP options reach both ends' sockets (seen through ZMQ_SRCFD).  */
static void test_socket_options (void *ctx)
{
    void *b = new_socket (ctx, ZMQ_PAIR);
    void *c = new_socket (ctx, ZMQ_PAIR);
    tune (b);
    tune (c);
    char ep[256];
    bind_at (b, "tcp://127.0.0.1:*", ep, sizeof ep);
    TEST_OK (zmq_connect (c, ep));
    send_str (c, "ping");
    check_tuned (srcfd_of_next (b));
    send_str (b, "pong");
    check_tuned (srcfd_of_next (c));
    /*  Without them: no keepalive, the system's defaults.  */
    void *d = new_socket (ctx, ZMQ_PAIR);
    void *e = new_socket (ctx, ZMQ_PAIR);
    bind_at (d, "tcp://127.0.0.1:*", ep, sizeof ep);
    TEST_OK (zmq_connect (e, ep));
    send_str (e, "plain");
    int fd = srcfd_of_next (d);
    TEST_ASSERT (sockopt_int (fd, IPPROTO_TCP, TCP_NODELAY) == 1);
    TEST_ASSERT (sockopt_int (fd, SOL_SOCKET, SO_KEEPALIVE) == 0);
    TEST_ASSERT (sockopt_int (fd, IPPROTO_IP, IP_TOS) == 0);
    TEST_OK (zmq_close (b));
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (d));
    TEST_OK (zmq_close (e));
}

/*  ZMQ_BINDTODEVICE (needs CAP_NET_RAW; skipped without it).  */
static void test_bindtodevice (void *ctx)
{
    void *b = new_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_setsockopt (b, ZMQ_BINDTODEVICE, "lo", 2));
    char ep[256];
    if (zmq_bind (b, "tcp://127.0.0.1:*") != 0) {
        TEST_ASSERT (errno == EPERM);
        fprintf (stderr, "ZMQ_BINDTODEVICE not permitted: skipped\n");
        TEST_OK (zmq_close (b));
        return;
    }
    last_endpoint (b, ep, sizeof ep);
    void *c = new_socket (ctx, ZMQ_PUSH);
    TEST_OK (zmq_setsockopt (c, ZMQ_BINDTODEVICE, "lo", 2));
    TEST_OK (zmq_connect (c, ep));
    send_str (c, "on lo");
    int fd = srcfd_of_next (b);
    char dev[32] = "";
    socklen_t l = sizeof dev;
    TEST_ASSERT (getsockopt (fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &l) == 0);
    (void) dev;
    /*  An unknown device fails the bind.  */
    void *d = new_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_setsockopt (d, ZMQ_BINDTODEVICE, "nosuchdev0", 10));
    TEST_FAIL (zmq_bind (d, "tcp://127.0.0.1:*"), ENODEV);
    TEST_OK (zmq_close (d));
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (b));
}

/*  ZMQ_USE_FD: bind on a listening socket the application made; the address given is not
    used, ZMQ_LAST_ENDPOINT shows the socket's; the library owns (and closes) it.  */
static void test_use_fd (void *ctx)
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
    void *b = new_socket (ctx, ZMQ_PULL);
    set_int (b, ZMQ_USE_FD, lfd);
    TEST_ASSERT (get_int (b, ZMQ_USE_FD) == lfd);
    char ep[256], want[64];
    bind_at (b, "tcp://127.0.0.1:1", ep, sizeof ep);
    snprintf (want, sizeof want, "tcp://127.0.0.1:%d", ntohs (a.sin_port));
    TEST_ASSERT (strcmp (ep, want) == 0);
    void *c = new_socket (ctx, ZMQ_PUSH);
    TEST_OK (zmq_connect (c, want));
    send_str (c, "through the given fd");
    recv_str (b, "through the given fd");
    void *mb = monitor_open (ctx, b, "inproc://tcp-use-fd", ZMQ_EVENT_CLOSED);
    TEST_OK (zmq_unbind (b, ep));
    expect_event (mb, ZMQ_EVENT_CLOSED, ep);
    /*  The listening socket is closed: its port refuses connections (at once with
        libzmq, which closes before reporting; allow ferrozmq a moment).  */
    long deadline = now_ms () + 1000;
    for (;;) {
        int probe = socket (AF_INET, SOCK_STREAM, 0);
        int rc = connect (probe, (struct sockaddr *) &a, sizeof a);
        int e = errno;
        close (probe);
        if (rc == -1) {
            TEST_ASSERT (e == ECONNREFUSED);
            break;
        }
        TEST_ASSERT (now_ms () < deadline);
        usleep (5000);
    }
    TEST_OK (zmq_close (mb));
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (b));
}

/*  ZMQ_TCP_ACCEPT_FILTER: only matching peers get a session.  */
static void test_accept_filter (void *ctx)
{
    void *b = new_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_setsockopt (b, ZMQ_TCP_ACCEPT_FILTER, "10.1.2.3", 8));
    char ep[256];
    bind_at (b, "tcp://127.0.0.1:*", ep, sizeof ep);
    void *c = new_socket (ctx, ZMQ_PUSH);
    void *mc = monitor_open (ctx, c, "inproc://tcp-filter", ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    TEST_OK (zmq_connect (c, ep));
    TEST_OK (zmq_send (c, "x", 1, ZMQ_DONTWAIT));
    recv_nothing (b, 300);
    expect_no_event (mc, 10);
    TEST_OK (zmq_close (b));
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (mc));

    /*  A filter that matches lets the peer in; NULL clears the filters.  */
    b = new_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_setsockopt (b, ZMQ_TCP_ACCEPT_FILTER, "10.1.2.3", 8));
    TEST_OK (zmq_setsockopt (b, ZMQ_TCP_ACCEPT_FILTER, "127.0.0.1", 9));
    bind_at (b, "tcp://127.0.0.1:*", ep, sizeof ep);
    c = new_socket (ctx, ZMQ_PUSH);
    TEST_OK (zmq_connect (c, ep));
    send_str (c, "allowed");
    recv_str (b, "allowed");
    TEST_OK (zmq_close (b));
    TEST_OK (zmq_close (c));
}

/*  ZMQ_RECONNECT_IVL -1 (and 0, in libzmq 4.3): one attempt only.  */
static void test_no_reconnect (void *ctx)
{
    for (int ivl = -1; ivl <= 0; ivl++) {
        if (ivl == 0 && !SESSION_FIXED)
            continue;
        void *c = new_socket (ctx, ZMQ_PUSH);
        set_int (c, ZMQ_RECONNECT_IVL, ivl);
        void *mc = monitor_open (ctx, c, ivl ? "inproc://tcp-no-rc-1" : "inproc://tcp-no-rc-0",
                                 ZMQ_EVENT_ALL);
        char ep[64];
        snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", free_port ());
        TEST_OK (zmq_connect (c, ep));
        expect_event (mc, ZMQ_EVENT_CONNECT_DELAYED, ep);
        expect_event (mc, ZMQ_EVENT_CLOSED, ep);
        expect_no_event (mc, 200);
        TEST_OK (zmq_close (c));
        TEST_OK (zmq_close (mc));
    }
}

/*  Draft ZMQ_RECONNECT_STOP.  */
static void test_reconnect_stop (void *ctx)
{
    void *c = new_socket (ctx, ZMQ_PUSH);
    set_int (c, ZMQ_RECONNECT_IVL, 20);
    TEST_ASSERT (get_int (c, ZMQ_RECONNECT_STOP) == 0);
    set_int (c, ZMQ_RECONNECT_STOP, ZMQ_RECONNECT_STOP_CONN_REFUSED);
    TEST_ASSERT (get_int (c, ZMQ_RECONNECT_STOP) == ZMQ_RECONNECT_STOP_CONN_REFUSED);
    void *mc = monitor_open (ctx, c, "inproc://tcp-stop-refused", ZMQ_EVENT_ALL);
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", free_port ());
    TEST_OK (zmq_connect (c, ep));
    expect_event (mc, ZMQ_EVENT_CONNECT_DELAYED, ep);
    expect_event (mc, ZMQ_EVENT_CLOSED, ep);
    if (SESSION_FIXED)
        expect_no_event (mc, 300);
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (mc));

    /*  A peer that accepts the connection but never speaks ZMTP: with
        ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED, no retry after the handshake times out.  */
    int lfd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    TEST_ASSERT (bind (lfd, (struct sockaddr *) &a, sizeof a) == 0);
    TEST_ASSERT (listen (lfd, 8) == 0);
    socklen_t l = sizeof a;
    TEST_ASSERT (getsockname (lfd, (struct sockaddr *) &a, &l) == 0);
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", ntohs (a.sin_port));
    c = new_socket (ctx, ZMQ_PUSH);
    set_int (c, ZMQ_RECONNECT_IVL, 20);
    set_int (c, ZMQ_HANDSHAKE_IVL, 100);
    set_int (c, ZMQ_RECONNECT_STOP, ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED);
    mc = monitor_open (ctx, c, "inproc://tcp-stop-handshake", ZMQ_EVENT_ALL);
    TEST_OK (zmq_connect (c, ep));
    expect_event (mc, ZMQ_EVENT_CONNECT_DELAYED, ep);
    expect_event (mc, ZMQ_EVENT_CONNECTED, ep);
    expect_event (mc, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, ep);
    expect_event (mc, ZMQ_EVENT_DISCONNECTED, ep);
    if (SESSION_FIXED)
        expect_no_event (mc, 300);
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (mc));
    close (lfd);
}

/*  ZMQ_CONNECT_TIMEOUT: a connect that hangs (the peer's accept queue is full) is given up
    after the time-out and retried.  */
static void test_connect_timeout (void *ctx)
{
    int lfd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    TEST_ASSERT (bind (lfd, (struct sockaddr *) &a, sizeof a) == 0);
    TEST_ASSERT (listen (lfd, 0) == 0);
    socklen_t l = sizeof a;
    TEST_ASSERT (getsockname (lfd, (struct sockaddr *) &a, &l) == 0);
    /*  Fill the accept queue: later connects stay in SYN_SENT.  */
    int fill[3];
    for (int i = 0; i < 3; i++) {
        fill[i] = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect (fill[i], (struct sockaddr *) &a, sizeof a);
    }
    /*  The first fill connection completing is what fills the queue (backlog 0 admits one).  */
    struct pollfd pf = {fill[0], POLLOUT, 0};
    TEST_ASSERT (poll (&pf, 1, 2000) == 1 && (pf.revents & POLLOUT));
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", ntohs (a.sin_port));
    void *c = new_socket (ctx, ZMQ_PUSH);
    set_int (c, ZMQ_CONNECT_TIMEOUT, 150);
    void *mc = monitor_open (ctx, c, "inproc://tcp-connect-timeout", ZMQ_EVENT_ALL);
    TEST_OK (zmq_connect (c, ep));
    expect_event (mc, ZMQ_EVENT_CONNECT_DELAYED, ep);
    long t = now_ms ();
    expect_event (mc, ZMQ_EVENT_CLOSED, ep);
    long took = now_ms () - t;
    TEST_ASSERT (took >= 100 && took < 1500);
    expect_event (mc, ZMQ_EVENT_CONNECT_RETRIED, ep);
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (mc));
    for (int i = 0; i < 3; i++)
        close (fill[i]);
    close (lfd);
}

/*  ZMQ_IMMEDIATE: no queueing towards a peer that is not connected.  */
static void test_immediate (void *ctx)
{
    for (int immediate = 0; immediate < 2; immediate++) {
        void *pull = new_socket (ctx, ZMQ_PULL);
        char live[256], dead[64];
        bind_at (pull, "tcp://127.0.0.1:*", live, sizeof live);
        void *push = new_socket (ctx, ZMQ_PUSH);
        set_int (push, ZMQ_IMMEDIATE, immediate);
        snprintf (dead, sizeof dead, "tcp://127.0.0.1:%d", free_port ());
        TEST_OK (zmq_connect (push, dead));
        if (immediate)
            TEST_FAIL (zmq_send (push, "x", 1, ZMQ_DONTWAIT), EAGAIN);
        void *mon = monitor_open (ctx, push, immediate ? "inproc://tcp-imm1" : "inproc://tcp-imm0",
                                  ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
        TEST_OK (zmq_connect (push, live));
        expect_event (mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, live);
        set_int (push, ZMQ_SNDTIMEO, 1000);
        for (int i = 0; i < 10; i++)
            send_str (push, "m");
        int got = 0;
        char buf[8];
        set_int (pull, ZMQ_RCVTIMEO, 200);
        while (zmq_recv (pull, buf, sizeof buf, 0) == 1)
            got++;
        /*  Without it, half the messages wait in the dead peer's queue.  */
        TEST_ASSERT (got == (immediate ? 10 : 5));
        TEST_OK (zmq_close (mon));
        TEST_OK (zmq_close (push));
        TEST_OK (zmq_close (pull));
    }
}

static char late_ep[64];
static int late_got;

/*  A peer that appears after `arg` ms, in its own context, and counts what it receives.  */
static void *late_peer (void *arg)
{
    /*  Not synchronisation: the peer's lateness is the behaviour under test (the messages
        must wait in zmq_ctx_term's linger until it appears).  */
    usleep (*(int *) arg * 1000);
    void *ctx = zmq_ctx_new ();
    void *p = new_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_bind (p, late_ep));
    char buf[8];
    set_int (p, ZMQ_RCVTIMEO, 1500);
    while (late_got < 3 && zmq_recv (p, buf, sizeof buf, 0) == 1)
        late_got++;
    TEST_OK (zmq_close (p));
    TEST_OK (zmq_ctx_term (ctx));
    return NULL;
}

/*  ZMQ_LINGER with messages queued for a peer that is not there: 0 drops them, N waits up
    to N ms in zmq_ctx_term, -1 waits until they are delivered.  */
static void test_linger (void)
{
    const int lingers[] = {0, 300, -1, 5000};
    for (int i = 0; i < 4; i++) {
        void *ctx = zmq_ctx_new ();
        void *s = zmq_socket (ctx, ZMQ_PUSH);
        set_int (s, ZMQ_LINGER, lingers[i]);
        snprintf (late_ep, sizeof late_ep, "tcp://127.0.0.1:%d", free_port ());
        TEST_OK (zmq_connect (s, late_ep));
        for (int k = 0; k < 3; k++)
            send_str (s, "m");
        late_got = 0;
        pthread_t th;
        int delay = 400;
        int late = lingers[i] < 0 || lingers[i] > 1000;
        if (late)
            TEST_ASSERT (pthread_create (&th, NULL, late_peer, &delay) == 0);
        TEST_OK (zmq_close (s));
        long t = now_ms ();
        TEST_OK (zmq_ctx_term (ctx));
        long took = now_ms () - t;
        if (lingers[i] == 0)
            TEST_ASSERT (took < 200);
        else if (!SESSION_FIXED)
            ;
        else if (lingers[i] == 300)
            TEST_ASSERT (took >= 250 && took < 1000);
        else
            /*  Done once the late peer has them, long before the linger ends.  */
            TEST_ASSERT (took >= 300 && took < 3000);
        if (late) {
            TEST_ASSERT (pthread_join (th, NULL) == 0);
            TEST_ASSERT (!SESSION_FIXED || late_got == 3);
        }
    }
}

int main (void)
{
    net_setup ();
    void *ctx = zmq_ctx_new ();
    TEST_ASSERT (ctx);
    test_bind_forms (ctx);
    test_addr_in_use (ctx);
    test_connect_forms (ctx);
    test_unbind_disconnect_keys (ctx);
    test_unbind_closes_accepted (ctx);
    test_ipv6 (ctx);
    test_source_address (ctx);
    test_socket_options (ctx);
    test_bindtodevice (ctx);
    test_use_fd (ctx);
    test_accept_filter (ctx);
    test_no_reconnect (ctx);
    test_reconnect_stop (ctx);
    test_connect_timeout (ctx);
    test_immediate (ctx);
    TEST_OK (zmq_ctx_term (ctx));
    test_ctx_defaults ();
    test_linger ();
    return 0;
}
