/*  RADIO and DISH (RFC 48, draft API): groups, zmq_join/zmq_leave and their errors,
    single-part messages, over inproc, tcp and ipc; and the ZMTP framing against a peer
    written out by hand (a DISH's JOIN/LEAVE are commands; a RADIO sends each message as a
    group frame with MORE, then the body), as libzmq 4.3's radio/dish sessions do.
    Debian's libzmq 4.3.4 is built without the draft API (no zmq_join symbol), so it cannot
    run this test; the wire checks stand in for interop.  */
#define ZMQ_BUILD_DRAFT_API
#include "testutil.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

static int64_t now_ms (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return (int64_t) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int send_group (void *radio, const char *group, const void *body, size_t len)
{
    zmq_msg_t m;
    TEST_OK (zmq_msg_init_size (&m, len));
    if (len)
        memcpy (zmq_msg_data (&m), body, len);
    TEST_OK (zmq_msg_set_group (&m, group));
    int rc = zmq_msg_send (&m, radio, 0);
    if (rc == -1)
        zmq_msg_close (&m);
    return rc;
}

/*  Receives one message within `ms`; checks its group and body. 0 if none came.  */
static int recv_group (void *dish, const char *group, const void *body, size_t len, int ms)
{
    zmq_pollitem_t it = {dish, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&it, 1, ms) != 1)
        return 0;
    zmq_msg_t m;
    TEST_OK (zmq_msg_init (&m));
    TEST_ASSERT (zmq_msg_recv (&m, dish, ZMQ_DONTWAIT) == (int) len);
    TEST_ASSERT (strcmp (zmq_msg_group (&m), group) == 0);
    TEST_ASSERT (len == 0 || memcmp (zmq_msg_data (&m), body, len) == 0);
    TEST_ASSERT (!zmq_msg_more (&m));
    zmq_msg_close (&m);
    return 1;
}

/*  Sends on `group` until the DISH has it: joins travel to the RADIO asynchronously.  */
static void sync_group (void *radio, void *dish, const char *group)
{
    int64_t end = now_ms () + 5000;
    for (;;) {
        TEST_ASSERT (now_ms () < end);
        TEST_OK (send_group (radio, group, "sync", 4));
        if (recv_group (dish, group, "sync", 4, 20))
            break;
    }
    /*  Drain duplicates of the sync message.  */
    while (recv_group (dish, group, "sync", 4, 50))
        ;
}

static void test_errors (void *ctx)
{
    void *radio = zmq_socket (ctx, ZMQ_RADIO);
    void *dish = zmq_socket (ctx, ZMQ_DISH);
    TEST_ASSERT (radio && dish);

    char longest[ZMQ_GROUP_MAX_LENGTH + 2];
    memset (longest, 'A', sizeof longest);
    longest[ZMQ_GROUP_MAX_LENGTH + 1] = 0; /* 256 characters */
    TEST_FAIL (zmq_join (dish, longest), EINVAL);
    TEST_FAIL (zmq_leave (dish, longest), EINVAL);
    longest[ZMQ_GROUP_MAX_LENGTH] = 0; /* 255: the limit */
    TEST_OK (zmq_join (dish, longest));
    TEST_OK (zmq_leave (dish, longest));

    TEST_OK (zmq_join (dish, "Movies"));
    TEST_FAIL (zmq_join (dish, "Movies"), EINVAL);
    TEST_OK (zmq_leave (dish, "Movies"));
    TEST_FAIL (zmq_leave (dish, "Movies"), EINVAL);
    TEST_FAIL (zmq_leave (dish, "never"), EINVAL);
    TEST_OK (zmq_join (dish, ""));
    TEST_OK (zmq_leave (dish, ""));

    /*  Only a DISH joins.  */
    TEST_FAIL (zmq_join (radio, "Movies"), ENOTSUP);
    TEST_FAIL (zmq_leave (radio, "Movies"), ENOTSUP);
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    TEST_FAIL (zmq_join (pub, "Movies"), ENOTSUP);
    zmq_close (pub);
    TEST_FAIL (zmq_join (NULL, "Movies"), ENOTSOCK);

    /*  RADIO sends, DISH receives, single-part only.  */
    char buf[8];
    TEST_FAIL (zmq_recv (radio, buf, sizeof buf, ZMQ_DONTWAIT), ENOTSUP);
    TEST_FAIL (zmq_send (dish, "x", 1, ZMQ_DONTWAIT), ENOTSUP);
    TEST_FAIL (zmq_send (radio, "x", 1, ZMQ_SNDMORE), EINVAL);
    /*  With no DISH the message is dropped, not queued.  */
    TEST_ASSERT (send_group (radio, "Movies", "x", 1) == 1);

    /*  Groups on messages.  */
    zmq_msg_t m;
    TEST_OK (zmq_msg_init (&m));
    TEST_ASSERT (strcmp (zmq_msg_group (&m), "") == 0);
    TEST_OK (zmq_msg_set_group (&m, "short"));
    TEST_ASSERT (strcmp (zmq_msg_group (&m), "short") == 0);
    TEST_OK (zmq_msg_set_group (&m, longest));
    TEST_ASSERT (strcmp (zmq_msg_group (&m), longest) == 0);
    longest[ZMQ_GROUP_MAX_LENGTH] = 'A';
    TEST_FAIL (zmq_msg_set_group (&m, longest), EINVAL);
    zmq_msg_close (&m);

    /*  DISH lingers 0 by default, as in libzmq; neither is thread-safe-flagged here.  */
    int linger = -2;
    size_t sz = sizeof linger;
    TEST_OK (zmq_getsockopt (dish, ZMQ_LINGER, &linger, &sz));
    TEST_ASSERT (linger == 0);
    TEST_OK (zmq_close (radio));
    TEST_OK (zmq_close (dish));
}

/*  One RADIO, one DISH over `ep`: the DISH gets exactly its groups.  */
static void test_transport (void *ctx, const char *bind_ep, int dish_binds)
{
    void *radio = zmq_socket (ctx, ZMQ_RADIO);
    void *dish = zmq_socket (ctx, ZMQ_DISH);
    TEST_ASSERT (radio && dish);
    /*  One group joined before the connection (sent when it attaches), one after.  */
    TEST_OK (zmq_join (dish, "Movies"));
    char ep[256];
    size_t sz = sizeof ep;
    if (dish_binds) {
        TEST_OK (zmq_bind (dish, bind_ep));
        TEST_OK (zmq_getsockopt (dish, ZMQ_LAST_ENDPOINT, ep, &sz));
        TEST_OK (zmq_connect (radio, ep));
    } else {
        TEST_OK (zmq_bind (radio, bind_ep));
        TEST_OK (zmq_getsockopt (radio, ZMQ_LAST_ENDPOINT, ep, &sz));
        TEST_OK (zmq_connect (dish, ep));
    }
    sync_group (radio, dish, "Movies");
    TEST_OK (zmq_join (dish, "TV"));
    sync_group (radio, dish, "TV");

    /*  Not joined: never delivered; joined groups arrive in order.  */
    TEST_OK (send_group (radio, "Sports", "no", 2));
    TEST_OK (send_group (radio, "Movies", "Godfather", 9));
    TEST_OK (send_group (radio, "TV", "News", 4));
    TEST_ASSERT (recv_group (dish, "Movies", "Godfather", 9, 2000));
    TEST_ASSERT (recv_group (dish, "TV", "News", 4, 2000));

    /*  A long group (heap-stored) and an empty body; a large body.  */
    char g[ZMQ_GROUP_MAX_LENGTH + 1];
    memset (g, 'g', ZMQ_GROUP_MAX_LENGTH);
    g[ZMQ_GROUP_MAX_LENGTH] = 0;
    TEST_OK (zmq_join (dish, g));
    sync_group (radio, dish, g);
    TEST_OK (send_group (radio, g, "", 0));
    TEST_ASSERT (recv_group (dish, g, "", 0, 2000));
    static char big[100000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char) (i * 7);
    TEST_OK (send_group (radio, "TV", big, sizeof big));
    TEST_ASSERT (recv_group (dish, "TV", big, sizeof big, 2000));

    /*  After a leave the DISH drops that group at once (whatever the RADIO still sends).  */
    TEST_OK (zmq_leave (dish, "Movies"));
    TEST_OK (send_group (radio, "Movies", "late", 4));
    TEST_OK (send_group (radio, "TV", "after", 5));
    TEST_ASSERT (recv_group (dish, "TV", "after", 5, 2000));
    TEST_ASSERT (!recv_group (dish, "Movies", "late", 4, 100));

    TEST_OK (zmq_close (radio));
    TEST_OK (zmq_close (dish));
}

/*  Two DISHes with different groups on one RADIO: each gets its own.  */
static void test_two_dishes (void *ctx)
{
    void *radio = zmq_socket (ctx, ZMQ_RADIO);
    void *d1 = zmq_socket (ctx, ZMQ_DISH);
    void *d2 = zmq_socket (ctx, ZMQ_DISH);
    TEST_OK (zmq_bind (radio, "tcp://127.0.0.1:*"));
    char ep[256];
    size_t sz = sizeof ep;
    TEST_OK (zmq_getsockopt (radio, ZMQ_LAST_ENDPOINT, ep, &sz));
    TEST_OK (zmq_join (d1, "A"));
    TEST_OK (zmq_join (d2, "B"));
    TEST_OK (zmq_connect (d1, ep));
    TEST_OK (zmq_connect (d2, ep));
    sync_group (radio, d1, "A");
    sync_group (radio, d2, "B");
    TEST_OK (send_group (radio, "A", "a", 1));
    TEST_OK (send_group (radio, "B", "b", 1));
    TEST_ASSERT (recv_group (d1, "A", "a", 1, 2000));
    TEST_ASSERT (recv_group (d2, "B", "b", 1, 2000));
    TEST_ASSERT (!recv_group (d1, "B", "b", 1, 100));
    TEST_ASSERT (!recv_group (d2, "A", "a", 1, 100));
    zmq_close (radio);
    zmq_close (d1);
    zmq_close (d2);
}

/* ---- the wire, against a peer written by hand ---- */

static int raw_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    TEST_ASSERT (fd >= 0);
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons (port);
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    TEST_ASSERT (connect (fd, (struct sockaddr *) &a, sizeof a) == 0);
    return fd;
}

static void send_all (int fd, const void *data, size_t len)
{
    TEST_ASSERT (send (fd, data, len, MSG_NOSIGNAL) == (ssize_t) len);
}

/*  The socket runs the commands that attach a new connection (and replay joins) only when
    the application calls into it, as libzmq's does: `poke` is called while waiting.  */
static void *poke;

static void recv_exactly (int fd, unsigned char *buf, size_t len)
{
    int64_t end = now_ms () + 5000;
    while (len > 0) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll (&p, 1, 10) != 1) {
            TEST_ASSERT (now_ms () < end);
            int ev;
            size_t sz = sizeof ev;
            if (poke)
                TEST_OK (zmq_getsockopt (poke, ZMQ_EVENTS, &ev, &sz));
            continue;
        }
        ssize_t n = recv (fd, buf, len, 0);
        TEST_ASSERT (n > 0);
        buf += n;
        len -= n;
    }
}

/*  ZMTP 3.1 greeting (NULL) and READY with Socket-Type `type`; reads the peer's.  */
static void handshake (int fd, const char *type)
{
    unsigned char out[128] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1, 'N', 'U', 'L', 'L'};
    size_t n = 64;
    unsigned char body[64];
    size_t b = 0;
    memcpy (body, "\5READY\13Socket-Type", 18);
    b = 18;
    body[b++] = 0;
    body[b++] = 0;
    body[b++] = 0;
    body[b++] = (unsigned char) strlen (type);
    memcpy (body + b, type, strlen (type));
    b += strlen (type);
    out[n++] = 4;
    out[n++] = (unsigned char) b;
    memcpy (out + n, body, b);
    n += b;
    send_all (fd, out, n);
    unsigned char in[512];
    recv_exactly (fd, in, 64);
    TEST_ASSERT (in[0] == 0xff && in[10] == 3);
    recv_exactly (fd, in, 2);
    TEST_ASSERT (in[0] == 4);
    recv_exactly (fd, in, in[1]);
    TEST_ASSERT (memcmp (in, "\5READY", 6) == 0);
}

static void test_wire (void *ctx)
{
    /*  Our DISH against a hand-written RADIO.  */
    void *dish = zmq_socket (ctx, ZMQ_DISH);
    TEST_OK (zmq_join (dish, "Movies"));
    TEST_OK (zmq_bind (dish, "tcp://127.0.0.1:*"));
    char ep[256];
    size_t sz = sizeof ep;
    TEST_OK (zmq_getsockopt (dish, ZMQ_LAST_ENDPOINT, ep, &sz));
    poke = dish;
    int fd = raw_connect (atoi (strrchr (ep, ':') + 1));
    handshake (fd, "RADIO");
    /*  The join replayed on connection: a JOIN command frame.  */
    unsigned char in[64];
    recv_exactly (fd, in, 2 + 5 + 6);
    TEST_ASSERT (memcmp (in, "\4\13\4JOINMovies", 13) == 0);
    TEST_OK (zmq_join (dish, "TV"));
    recv_exactly (fd, in, 2 + 5 + 2);
    TEST_ASSERT (memcmp (in, "\4\7\4JOINTV", 9) == 0);
    TEST_OK (zmq_leave (dish, "TV"));
    recv_exactly (fd, in, 2 + 6 + 2);
    TEST_ASSERT (memcmp (in, "\4\10\5LEAVETV", 10) == 0);
    /*  A message: group frame with MORE, then the body.  */
    send_all (fd, "\1\6Movies\0\5Hello", 15);
    TEST_ASSERT (recv_group (dish, "Movies", "Hello", 5, 2000));
    /*  A group frame without MORE is a protocol error: the DISH drops the connection.  */
    send_all (fd, "\0\6Movies", 8);
    struct pollfd p = {fd, POLLIN, 0};
    TEST_ASSERT (poll (&p, 1, 5000) == 1);
    TEST_ASSERT (recv (fd, in, sizeof in, 0) <= 0);
    close (fd);
    poke = NULL;
    zmq_close (dish);

    /*  Our RADIO against a hand-written DISH.  */
    void *radio = zmq_socket (ctx, ZMQ_RADIO);
    TEST_OK (zmq_bind (radio, "tcp://127.0.0.1:*"));
    sz = sizeof ep;
    TEST_OK (zmq_getsockopt (radio, ZMQ_LAST_ENDPOINT, ep, &sz));
    fd = raw_connect (atoi (strrchr (ep, ':') + 1));
    handshake (fd, "DISH");
    send_all (fd, "\4\13\4JOINMovies", 13);
    /*  The RADIO learns the join asynchronously: send until a frame arrives.  */
    int64_t end = now_ms () + 5000;
    for (;;) {
        TEST_ASSERT (now_ms () < end);
        TEST_OK (send_group (radio, "Other", "no", 2));
        TEST_OK (send_group (radio, "Movies", "Hello", 5));
        struct pollfd q = {fd, POLLIN, 0};
        if (poll (&q, 1, 20) == 1)
            break;
    }
    recv_exactly (fd, in, 15);
    TEST_ASSERT (memcmp (in, "\1\6Movies\0\5Hello", 15) == 0);
    close (fd);
    zmq_close (radio);
}

int main (void)
{
    test_setup (60);
    void *ctx = zmq_ctx_new ();
    TEST_ASSERT (ctx);
    test_errors (ctx);
    test_transport (ctx, "inproc://rd", 1);
    test_transport (ctx, "inproc://rd2", 0);
    test_transport (ctx, "tcp://127.0.0.1:*", 1);
    test_transport (ctx, "tcp://127.0.0.1:*", 0);
    test_transport (ctx, "ipc://*", 1);
    test_transport (ctx, "ipc://*", 0);
    test_two_dishes (ctx);
    test_wire (ctx);
    TEST_OK (zmq_ctx_term (ctx));
    printf ("test_radio_dish: ok\n");
    return 0;
}
