/*  ZMTP 1.0 and 2.0 peers have no security handshake: libzmq raises no
    HANDSHAKE_SUCCEEDED for them, and when such a connection ends it reports
    HANDSHAKE_FAILED_NO_DETAIL (with the errno) before DISCONNECTED. Messages still flow.
    Checked against Debian's libzmq with -DLIBZMQ_REFERENCE.  */
#define _GNU_SOURCE
#include "netutil.h"

static void legacy_peer (void *ctx, int v1)
{
    void *s = new_socket (ctx, ZMQ_DEALER);
    set_int (s, ZMQ_LINGER, 0);
    char ep[256];
    bind_at (s, "tcp://127.0.0.1:*", ep, sizeof ep);
    void *mon = monitor_open (ctx, s, v1 ? "inproc://legacy-1" : "inproc://legacy-2",
                              ZMQ_EVENT_ALL);
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    TEST_ASSERT (fd >= 0);
    struct sockaddr_in sa;
    memset (&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons (port_of (ep));
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    TEST_OK (connect (fd, (struct sockaddr *) &sa, sizeof sa));
    if (v1) {
        /*  ZMTP 1.0: an empty identity frame, then the message "hi".  */
        TEST_ASSERT (send (fd, "\x01\x00\x03\x00hi", 6, 0) == 6);
    } else {
        /*  ZMTP 2.0: signature, revision 1, DEALER, empty identity, then "hi".  */
        unsigned char g[] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 1, 5, 0, 0, 0, 2, 'h', 'i'};
        TEST_ASSERT (send (fd, g, sizeof g, 0) == (ssize_t) sizeof g);
    }
    expect_event (mon, ZMQ_EVENT_ACCEPTED, NULL);
    recv_str_within (s, "hi", 5000);
    /*  No HANDSHAKE_SUCCEEDED for a legacy peer.  */
    expect_no_event (mon, 200);
    close (fd);
    expect_event (mon, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, NULL);
    expect_event (mon, ZMQ_EVENT_DISCONNECTED, NULL);
    TEST_OK (zmq_socket_monitor (s, NULL, 0));
    zmq_close (mon);
    zmq_close (s);
}

/*  A ZMTP 1.0 subscriber sends no subscriptions (it filters itself): the publisher
    subscribes it to everything as soon as the handshake is done, not when the peer first
    sends something (it never does).  */
static void legacy_subscriber (void *ctx)
{
    void *pub = new_socket (ctx, ZMQ_PUB);
    set_int (pub, ZMQ_LINGER, 0);
    char ep[256];
    bind_at (pub, "tcp://127.0.0.1:*", ep, sizeof ep);
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    TEST_ASSERT (fd >= 0);
    struct sockaddr_in sa;
    memset (&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons (port_of (ep));
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    TEST_OK (connect (fd, (struct sockaddr *) &sa, sizeof sa));
    TEST_ASSERT (send (fd, "\x01\x00", 2, 0) == 2);
    struct timeval tv = {0, 20000};
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    size_t have = 0;
    int found = 0;
    long end = now_ms () + 3000;
    while (!found && now_ms () < end) {
        zmq_send (pub, "news", 4, ZMQ_DONTWAIT);
        ssize_t n = recv (fd, buf + have, sizeof buf - have - 1, 0);
        if (n > 0) {
            have += (size_t) n;
            buf[have] = 0;
            found = memmem (buf, have, "news", 4) != NULL;
            if (have > sizeof buf - 64)
                have = 0;
        }
    }
    TEST_ASSERT (found);
    close (fd);
    zmq_close (pub);
}

int main (void)
{
    net_setup ();
    void *ctx = zmq_ctx_new ();
    legacy_peer (ctx, 1);
    legacy_peer (ctx, 0);
    legacy_subscriber (ctx);
    zmq_ctx_term (ctx);
    return 0;
}
