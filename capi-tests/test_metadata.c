/*  Message metadata from the peer's handshake, over tcp and ipc: zmq_msg_gets for
    Socket-Type, Identity (the peer's ZMQ_ROUTING_ID), Peer-Address and the peer's X-
    properties (draft ZMQ_METADATA); ZMQ_SRCFD; NULL/EINVAL for anything else.  */
#define ZMQ_BUILD_DRAFT_API
#include "netutil.h"

/*  Checks that need a change outside the network layer (ROUTER's routing-id frame carrying
    the metadata, in router.rs): skipped on ferrozmq until it lands.  */
#ifndef AWAITING_ROUTER
#define AWAITING_ROUTER 0
#endif
#if AWAITING_ROUTER && !defined(LIBZMQ_REFERENCE)
#define ROUTER_FIXED 0
#else
#define ROUTER_FIXED 1
#endif

static void expect_prop (zmq_msg_t *m, const char *name, const char *value)
{
    errno = 0;
    const char *v = zmq_msg_gets (m, name);
    if (value == NULL) {
        if (v != NULL || errno != EINVAL) {
            fprintf (stderr, "%s: '%s' errno %d, expected none\n", name, v ? v : "", errno);
            TEST_ASSERT (0);
        }
        return;
    }
    if (v == NULL || strcmp (v, value) != 0) {
        fprintf (stderr, "%s: '%s', expected '%s'\n", name, v ? v : "(null)", value);
        TEST_ASSERT (0);
    }
}

static void recv_msg (void *s, zmq_msg_t *m)
{
    set_int (s, ZMQ_RCVTIMEO, 5000);
    TEST_ASSERT (zmq_msg_recv (m, s, 0) >= 0);
}

static void check_peer_props (zmq_msg_t *m)
{
    expect_prop (m, "Socket-Type", "DEALER");
    expect_prop (m, "Identity", "peer-1");
    expect_prop (m, "Peer-Address", "127.0.0.1");
    expect_prop (m, "X-Color", "blue");
    /*  libzmq sends the routing id as "Identity"; names are case-sensitive.  */
    expect_prop (m, "Routing-Id", NULL);
    expect_prop (m, "socket-type", NULL);
    expect_prop (m, "User-Id", NULL);
    expect_prop (m, "No-Such-Property", NULL);
    int fd = zmq_msg_get (m, ZMQ_SRCFD);
    TEST_ASSERT (fd > 2);
    struct sockaddr_in peer;
    socklen_t l = sizeof peer;
    TEST_ASSERT (getpeername (fd, (struct sockaddr *) &peer, &l) == 0);
    TEST_ASSERT (peer.sin_family == AF_INET);
}

static void test_tcp (void *ctx)
{
    void *r = new_socket (ctx, ZMQ_ROUTER);
    char ep[256];
    bind_at (r, "tcp://127.0.0.1:*", ep, sizeof ep);
    void *d = new_socket (ctx, ZMQ_DEALER);
    TEST_OK (zmq_setsockopt (d, ZMQ_ROUTING_ID, "peer-1", 6));
    TEST_OK (zmq_setsockopt (d, ZMQ_METADATA, "X-Color:blue", 12));
    TEST_OK (zmq_connect (d, ep));
    send_str (d, "hello");
    zmq_msg_t id, body;
    zmq_msg_init (&id);
    zmq_msg_init (&body);
    recv_msg (r, &id);
    TEST_ASSERT (zmq_msg_size (&id) == 6 && memcmp (zmq_msg_data (&id), "peer-1", 6) == 0);
    recv_msg (r, &body);
    TEST_ASSERT (zmq_msg_size (&body) == 5);
    check_peer_props (&body);
    /*  The routing-id frame ROUTER makes carries them too.  */
    if (ROUTER_FIXED)
        check_peer_props (&id);

    /*  A copy shares them; a message made here has none.  */
    zmq_msg_t copy;
    zmq_msg_init (&copy);
    TEST_OK (zmq_msg_copy (&copy, &body));
    expect_prop (&copy, "X-Color", "blue");
    zmq_msg_close (&copy);
    zmq_msg_t local;
    TEST_OK (zmq_msg_init_size (&local, 3));
    expect_prop (&local, "Socket-Type", NULL);
    TEST_ASSERT (zmq_msg_get (&local, ZMQ_SRCFD) == -1);
    zmq_msg_close (&local);

    /*  The other way: the ROUTER's properties reach the DEALER.  */
    TEST_OK (zmq_msg_send (&id, r, ZMQ_SNDMORE));
    send_str (r, "back");
    zmq_msg_t reply;
    zmq_msg_init (&reply);
    recv_msg (d, &reply);
    expect_prop (&reply, "Socket-Type", "ROUTER");
    /*  ROUTER, DEALER and REQ always announce an Identity, empty if none was set.  */
    expect_prop (&reply, "Identity", "");
    expect_prop (&reply, "X-Color", NULL);
    expect_prop (&reply, "Peer-Address", "127.0.0.1");
    zmq_msg_close (&reply);
    zmq_msg_close (&body);
    zmq_msg_close (&id);
    TEST_OK (zmq_close (d));
    TEST_OK (zmq_close (r));
}

static void test_ipc (void *ctx)
{
    void *pull = new_socket (ctx, ZMQ_PULL);
    char ep[64];
    snprintf (ep, sizeof ep, "ipc://@ferrozmq-meta-%d", (int) getpid ());
    TEST_OK (zmq_bind (pull, ep));
    void *push = new_socket (ctx, ZMQ_PUSH);
    TEST_OK (zmq_setsockopt (push, ZMQ_METADATA, "X-Over:ipc", 10));
    TEST_OK (zmq_connect (push, ep));
    send_str (push, "local");
    zmq_msg_t m;
    zmq_msg_init (&m);
    recv_msg (pull, &m);
    expect_prop (&m, "Socket-Type", "PUSH");
    expect_prop (&m, "X-Over", "ipc");
    expect_prop (&m, "Identity", NULL);
    TEST_ASSERT (zmq_msg_get (&m, ZMQ_SRCFD) > 2);
#ifdef LIBZMQ_REFERENCE
    /*  libzmq names a Unix peer by its credentials: "localhost:uid:gid:pid". ferrozmq
        gives no Peer-Address over ipc (reading SO_PEERCRED needs a syscall it does not
        make yet).  */
    char want[64];
    snprintf (want, sizeof want, ":%d:%d:%d", (int) getuid (), (int) getgid (), (int) getpid ());
    const char *peer = zmq_msg_gets (&m, "Peer-Address");
    TEST_ASSERT (peer != NULL && strstr (peer, want) != NULL);
#endif
    zmq_msg_close (&m);
    TEST_OK (zmq_close (push));
    TEST_OK (zmq_close (pull));
}

/*  ZMQ_METADATA takes "X-name:value" only.  */
static void test_metadata_option (void *ctx)
{
    void *s = new_socket (ctx, ZMQ_DEALER);
    TEST_FAIL (zmq_setsockopt (s, ZMQ_METADATA, "Color:blue", 10), EINVAL);
    TEST_FAIL (zmq_setsockopt (s, ZMQ_METADATA, "X-Color", 7), EINVAL);
    TEST_FAIL (zmq_setsockopt (s, ZMQ_METADATA, "X-Color:", 8), EINVAL);
    TEST_OK (zmq_setsockopt (s, ZMQ_METADATA, "X-Color:a:b", 11));
    TEST_OK (zmq_close (s));
}

int main (void)
{
    net_setup ();
    void *ctx = zmq_ctx_new ();
    TEST_ASSERT (ctx);
    test_tcp (ctx);
    test_ipc (ctx);
    test_metadata_option (ctx);
    TEST_OK (zmq_ctx_term (ctx));
    return 0;
}
