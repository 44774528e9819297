/*  The udp transport (draft): RADIO connects, DISH and DGRAM bind; unicast and multicast on
    loopback (lo accepts multicast here: the group is joined on 127.0.0.1), ZMQ_MULTICAST_LOOP,
    the datagram format (group length, group, body) checked with plain sockets, and DGRAM's
    two-part messages (peer "ip:port", then body) in an echo. Debian's libzmq 4.3.4 has no
    draft API (no RADIO/DISH/DGRAM, no zmq_join), so it cannot run this test.  */
#define ZMQ_BUILD_DRAFT_API
#include "testutil.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

static int base_port;

static void ep (char *buf, const char *fmt, int port)
{
    snprintf (buf, 128, fmt, port);
}

static int send_group (void *radio, const char *group, const char *body)
{
    zmq_msg_t m;
    TEST_OK (zmq_msg_init_size (&m, strlen (body)));
    memcpy (zmq_msg_data (&m), body, strlen (body));
    TEST_OK (zmq_msg_set_group (&m, group));
    return zmq_msg_send (&m, radio, 0);
}

/*  One message within `ms`, with this group and body; 0 if none came.  */
static int recv_group (void *dish, const char *group, const char *body, int ms)
{
    zmq_pollitem_t it = {dish, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&it, 1, ms) != 1)
        return 0;
    zmq_msg_t m;
    TEST_OK (zmq_msg_init (&m));
    TEST_ASSERT (zmq_msg_recv (&m, dish, ZMQ_DONTWAIT) == (int) strlen (body));
    TEST_ASSERT (strcmp (zmq_msg_group (&m), group) == 0);
    TEST_ASSERT (memcmp (zmq_msg_data (&m), body, strlen (body)) == 0);
    zmq_msg_close (&m);
    return 1;
}

static void test_errors (void *ctx)
{
    char e[128];
    ep (e, "udp://127.0.0.1:%d", base_port);
    void *radio = zmq_socket (ctx, ZMQ_RADIO);
    void *dish = zmq_socket (ctx, ZMQ_DISH);
    void *dgram = zmq_socket (ctx, ZMQ_DGRAM);
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    /*  RADIO connects, DISH and DGRAM bind; other sockets have no udp.  */
    TEST_FAIL (zmq_bind (radio, e), ENOCOMPATPROTO);
    TEST_FAIL (zmq_connect (dish, e), ENOCOMPATPROTO);
    TEST_FAIL (zmq_connect (dgram, e), ENOCOMPATPROTO);
    TEST_FAIL (zmq_bind (pub, e), ENOCOMPATPROTO);
    TEST_FAIL (zmq_connect (pub, e), ENOCOMPATPROTO);
    /*  Syntax: an interface only with a multicast group; a port is needed.  */
    TEST_FAIL (zmq_connect (radio, "udp://127.0.0.1;127.0.0.1:5555"), EINVAL);
    TEST_FAIL (zmq_connect (radio, "udp://239.0.0.1;239.0.0.2:5555"), EINVAL);
    TEST_FAIL (zmq_connect (radio, "udp://127.0.0.1"), EINVAL);
    TEST_FAIL (zmq_bind (dish, "udp://nosuchif0;239.0.0.1:5555"), ENODEV);
    /*  libzmq has no "udp" capability name.  */
    TEST_ASSERT (zmq_has ("udp") == 0);
    /*  ZMQ_LAST_ENDPOINT is the address without the scheme, as libzmq gives it.  */
    TEST_OK (zmq_bind (dish, e));
    char last[128];
    size_t sz = sizeof last;
    TEST_OK (zmq_getsockopt (dish, ZMQ_LAST_ENDPOINT, last, &sz));
    TEST_ASSERT (strcmp (last, e + 6) == 0);
    TEST_OK (zmq_unbind (dish, e));
    TEST_FAIL (zmq_unbind (dish, e), ENOENT);
    TEST_OK (zmq_connect (radio, e));
    TEST_OK (zmq_disconnect (radio, e));
    TEST_FAIL (zmq_disconnect (radio, e), ENOENT);
    zmq_close (radio);
    zmq_close (dish);
    zmq_close (dgram);
    zmq_close (pub);
}

static void test_unicast (void *ctx)
{
    char e[128];
    ep (e, "udp://127.0.0.1:%d", base_port + 1);
    void *dish = zmq_socket (ctx, ZMQ_DISH);
    TEST_OK (zmq_bind (dish, e));
    TEST_OK (zmq_join (dish, "Movies"));
    void *radio = zmq_socket (ctx, ZMQ_RADIO);
    TEST_OK (zmq_connect (radio, e));
    /*  Every group goes on the wire; the DISH keeps only those it joined.  */
    TEST_ASSERT (send_group (radio, "TV", "Friends") == 7);
    TEST_ASSERT (send_group (radio, "Movies", "Godfather") == 9);
    TEST_ASSERT (recv_group (dish, "Movies", "Godfather", 2000));
    TEST_OK (zmq_join (dish, "TV"));
    TEST_ASSERT (send_group (radio, "TV", "News") == 4);
    TEST_ASSERT (recv_group (dish, "TV", "News", 2000));
    TEST_OK (zmq_leave (dish, "TV"));
    TEST_ASSERT (send_group (radio, "TV", "Late") == 4);
    TEST_ASSERT (send_group (radio, "Movies", "Alien") == 5);
    TEST_ASSERT (recv_group (dish, "Movies", "Alien", 2000));
    zmq_close (radio);
    zmq_close (dish);
}

static void test_multicast (void *ctx)
{
    char e[128], e2[128];
    ep (e, "udp://127.0.0.1;239.255.42.99:%d", base_port + 2);
    ep (e2, "udp://lo;239.255.42.99:%d", base_port + 2);
    /*  Two DISHes on the group's port (an interface by address, one by name).  */
    void *d1 = zmq_socket (ctx, ZMQ_DISH);
    void *d2 = zmq_socket (ctx, ZMQ_DISH);
    TEST_OK (zmq_bind (d1, e));
    TEST_OK (zmq_bind (d2, e2));
    TEST_OK (zmq_join (d1, "Movies"));
    TEST_OK (zmq_join (d2, "Movies"));
    void *radio = zmq_socket (ctx, ZMQ_RADIO);
    int hops = 1;
    TEST_OK (zmq_setsockopt (radio, ZMQ_MULTICAST_HOPS, &hops, sizeof hops));
    TEST_OK (zmq_connect (radio, e));
    TEST_ASSERT (send_group (radio, "Movies", "Godfather") == 9);
    TEST_ASSERT (recv_group (d1, "Movies", "Godfather", 2000));
    TEST_ASSERT (recv_group (d2, "Movies", "Godfather", 2000));
    zmq_close (radio);

    /*  ZMQ_MULTICAST_LOOP 0 is accepted and read back. Its effect cannot be seen here: on
        lo the datagram is sent out through lo itself, so members on this host still get it
        (the socket's IP_MULTICAST_LOOP is checked by the Rust unit test of transport::udp).  */
    radio = zmq_socket (ctx, ZMQ_RADIO);
    int loop = 0;
    TEST_OK (zmq_setsockopt (radio, ZMQ_MULTICAST_LOOP, &loop, sizeof loop));
    size_t sz = sizeof loop;
    loop = -1;
    TEST_OK (zmq_getsockopt (radio, ZMQ_MULTICAST_LOOP, &loop, &sz));
    TEST_ASSERT (loop == 0);
    TEST_OK (zmq_connect (radio, e));
    zmq_close (radio);
    zmq_close (d1);
    zmq_close (d2);
}

static int udp_socket (int port)
{
    int fd = socket (AF_INET, SOCK_DGRAM, 0);
    TEST_ASSERT (fd >= 0);
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons (port);
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (port)
        TEST_ASSERT (bind (fd, (struct sockaddr *) &a, sizeof a) == 0);
    return fd;
}

static void send_datagram (int fd, int port, const void *d, size_t n)
{
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons (port);
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    TEST_ASSERT (sendto (fd, d, n, 0, (struct sockaddr *) &a, sizeof a) == (ssize_t) n);
}

/*  The datagrams themselves, as libzmq's udp engine writes and reads them.  */
static void test_wire (void *ctx)
{
    char e[128];
    int port = base_port + 3;
    int fd = udp_socket (port);
    ep (e, "udp://127.0.0.1:%d", port);
    void *radio = zmq_socket (ctx, ZMQ_RADIO);
    TEST_OK (zmq_connect (radio, e));
    TEST_ASSERT (send_group (radio, "Movies", "Hello") == 5);
    struct pollfd p = {fd, POLLIN, 0};
    TEST_ASSERT (poll (&p, 1, 2000) == 1);
    unsigned char in[64];
    TEST_ASSERT (recv (fd, in, sizeof in, 0) == 12);
    TEST_ASSERT (memcmp (in, "\6MoviesHello", 12) == 0);
    zmq_close (radio);

    ep (e, "udp://127.0.0.1:%d", base_port + 4);
    void *dish = zmq_socket (ctx, ZMQ_DISH);
    TEST_OK (zmq_bind (dish, e));
    TEST_OK (zmq_join (dish, "TV"));
    send_datagram (fd, base_port + 4, "\11TV", 3);  /* shorter than its group: dropped */
    send_datagram (fd, base_port + 4, "\2TVhi", 5);
    TEST_ASSERT (recv_group (dish, "TV", "hi", 2000));
    send_datagram (fd, base_port + 4, "\2TV", 3);  /* an empty body */
    TEST_ASSERT (recv_group (dish, "TV", "", 2000));
    zmq_close (dish);
    close (fd);
}

static void send_part (void *s, const char *data, int flags)
{
    TEST_ASSERT (zmq_send (s, data, strlen (data), flags) == (int) strlen (data));
}

static int recv_part (void *s, char *buf, size_t n, int *more)
{
    int rc = zmq_recv (s, buf, n - 1, 0);
    TEST_ASSERT (rc >= 0);
    buf[rc] = 0;
    size_t sz = sizeof *more;
    TEST_OK (zmq_getsockopt (s, ZMQ_RCVMORE, more, &sz));
    return rc;
}

static void test_dgram (void *ctx)
{
    char ea[128], eb[128], addr_b[64], addr_a[64];
    ep (ea, "udp://127.0.0.1:%d", base_port + 5);
    ep (eb, "udp://127.0.0.1:%d", base_port + 6);
    snprintf (addr_a, sizeof addr_a, "127.0.0.1:%d", base_port + 5);
    snprintf (addr_b, sizeof addr_b, "127.0.0.1:%d", base_port + 6);
    void *a = zmq_socket (ctx, ZMQ_DGRAM);
    void *b = zmq_socket (ctx, ZMQ_DGRAM);
    int t = 2000;
    TEST_OK (zmq_setsockopt (a, ZMQ_RCVTIMEO, &t, sizeof t));
    TEST_OK (zmq_setsockopt (b, ZMQ_RCVTIMEO, &t, sizeof t));
    TEST_OK (zmq_bind (a, ea));
    TEST_OK (zmq_bind (b, eb));
    /*  Exactly two parts: the address with SNDMORE, then the body.  */
    TEST_FAIL (zmq_send (a, "body", 4, 0), EINVAL);
    send_part (a, addr_b, ZMQ_SNDMORE);
    TEST_FAIL (zmq_send (a, "more", 4, ZMQ_SNDMORE), EINVAL);
    send_part (a, "ping", 0);
    /*  b hears a's address; echoes to it.  */
    char buf[128];
    int more;
    recv_part (b, buf, sizeof buf, &more);
    TEST_ASSERT (more && strcmp (buf, addr_a) == 0);
    recv_part (b, buf, sizeof buf, &more);
    TEST_ASSERT (!more && strcmp (buf, "ping") == 0);
    send_part (b, addr_a, ZMQ_SNDMORE);
    send_part (b, "pong", 0);
    recv_part (a, buf, sizeof buf, &more);
    TEST_ASSERT (more && strcmp (buf, addr_b) == 0);
    recv_part (a, buf, sizeof buf, &more);
    TEST_ASSERT (!more && strcmp (buf, "pong") == 0);
    /*  A bad address drops the datagram; the socket goes on.  */
    send_part (a, "not-an-address", ZMQ_SNDMORE);
    send_part (a, "lost", 0);
    send_part (a, addr_b, ZMQ_SNDMORE);
    send_part (a, "after", 0);
    recv_part (b, buf, sizeof buf, &more);
    recv_part (b, buf, sizeof buf, &more);
    TEST_ASSERT (strcmp (buf, "after") == 0);
    zmq_close (a);
    zmq_close (b);
}

int main (void)
{
    test_setup (60);
    /*  Ports of our own, clear of other tests running at the same time.  */
    base_port = 20000 + (int) (getpid () % 2000) * 10;
    void *ctx = zmq_ctx_new ();
    TEST_ASSERT (ctx);
    test_errors (ctx);
    test_unicast (ctx);
    test_multicast (ctx);
    test_wire (ctx);
    test_dgram (ctx);
    TEST_OK (zmq_ctx_term (ctx));
    printf ("test_udp: ok\n");
    return 0;
}
