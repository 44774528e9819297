/*  A peer's ZMQ_HEARTBEAT_TTL is enforced even when our own ZMQ_HEARTBEAT_IVL is 0: a raw
    ZMTP 3.1 peer sends one PING with a 500 ms TTL and then freezes; the connection is
    dropped about 500 ms later (libzmq does the same). A peer that keeps talking is not.
    Checked against Debian's libzmq with -DLIBZMQ_REFERENCE.  */
#include "netutil.h"
#include <netinet/tcp.h>

static int raw_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    TEST_ASSERT (fd >= 0);
    struct sockaddr_in sa;
    memset (&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons (port);
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    TEST_OK (connect (fd, (struct sockaddr *) &sa, sizeof sa));
    return fd;
}

static void send_all (int fd, const void *p, size_t n)
{
    TEST_ASSERT (send (fd, p, n, MSG_NOSIGNAL) == (ssize_t) n);
}

/*  Greeting (ZMTP 3.1, NULL) and READY as a DEALER.  */
static void handshake (int fd)
{
    unsigned char g[64] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1};
    memcpy (g + 12, "NULL", 4);
    send_all (fd, g, sizeof g);
    unsigned char ready[64];
    size_t n = 0;
    ready[n++] = 0x04; /* command, short */
    ready[n++] = 0;    /* size, set below */
    memcpy (ready + n, "\x05READY\x0bSocket-Type\0\0\0\x06" "DEALER", 28);
    n += 28;
    ready[1] = (unsigned char) (n - 2);
    send_all (fd, ready, n);
}

/*  A PING with a TTL of `ttl_ds` deciseconds.  */
static void ping (int fd, int ttl_ds)
{
    unsigned char ping[] = {0x04, 7, 4, 'P', 'I', 'N', 'G', 0, (unsigned char) ttl_ds};
    send_all (fd, ping, sizeof ping);
}

/*  Reads and discards what the socket sends for `ms`; false if the connection closed.  */
static int drain_open (int fd, int ms)
{
    long end = now_ms () + ms;
    char buf[512];
    for (;;) {
        long left = end - now_ms ();
        if (left <= 0)
            return 1;
        struct timeval tv = {left / 1000, (left % 1000) * 1000};
        setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t n = recv (fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return 0;
    }
}

int main (void)
{
    net_setup ();
    void *ctx = zmq_ctx_new ();
    void *server = new_socket (ctx, ZMQ_ROUTER);
    set_int (server, ZMQ_LINGER, 0);
    TEST_ASSERT (get_int (server, ZMQ_HEARTBEAT_IVL) == 0);
    char ep[256];
    bind_at (server, "tcp://127.0.0.1:*", ep, sizeof ep);
    void *mon = monitor_open (ctx, server, "inproc://ttl-mon",
                              ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED);

    /*  Frozen after its PING: dropped once the 500 ms TTL runs out.  */
    int fd = raw_connect (port_of (ep));
    handshake (fd);
    expect_event (mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, NULL);
    ping (fd, 5);
    long start = now_ms ();
    expect_event_skip (mon, ZMQ_EVENT_DISCONNECTED, 0, 3000, NULL, 0);
    long took = now_ms () - start;
    printf ("dropped %ld ms after the PING (TTL 500 ms)\n", took);
    TEST_ASSERT (took >= 400 && took < 2000);
    TEST_ASSERT (!drain_open (fd, 1000));
    close (fd);

    /*  A PING without TTL: nothing to enforce, the connection stays.  */
    fd = raw_connect (port_of (ep));
    handshake (fd);
    expect_event (mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, NULL);
    ping (fd, 0);
    TEST_ASSERT (drain_open (fd, 1000));
    expect_no_event (mon, 0);
    close (fd);
    expect_event (mon, ZMQ_EVENT_DISCONNECTED, NULL);

    TEST_OK (zmq_socket_monitor (server, NULL, 0));
    zmq_close (mon);
    zmq_close (server);
    zmq_ctx_term (ctx);
    return 0;
}
