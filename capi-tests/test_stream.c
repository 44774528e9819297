/*  ZMQ_STREAM: raw TCP and IPC peers addressed by routing id, against plain sockets and
    STREAM to STREAM; connect/disconnect notifications, closing by empty message, many
    clients, large data, monitor events. Every expectation also holds for Debian's libzmq
    (the same program, linked with it).  */
#include "testutil.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define ID_MAX 256

typedef struct {
    unsigned char data[ID_MAX];
    size_t size;
} id_t_;

static int port_of (void *s)
{
    char ep[256];
    size_t sz = sizeof ep;
    TEST_OK (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, ep, &sz));
    char *colon = strrchr (ep, ':');
    TEST_ASSERT (colon);
    return atoi (colon + 1);
}

static void set_int (void *s, int option, int value)
{
    TEST_OK (zmq_setsockopt (s, option, &value, sizeof value));
}

static int tcp_client (int port)
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

/*  A listening TCP socket on an ephemeral port.  */
static int tcp_listener (int *port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    TEST_ASSERT (fd >= 0);
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    TEST_ASSERT (bind (fd, (struct sockaddr *) &a, sizeof a) == 0);
    TEST_ASSERT (listen (fd, 16) == 0);
    socklen_t len = sizeof a;
    TEST_ASSERT (getsockname (fd, (struct sockaddr *) &a, &len) == 0);
    *port = ntohs (a.sin_port);
    return fd;
}

static int accept_within (int listener, int ms)
{
    struct pollfd p = {listener, POLLIN, 0};
    TEST_ASSERT (poll (&p, 1, ms) == 1);
    int fd = accept (listener, NULL, NULL);
    TEST_ASSERT (fd >= 0);
    return fd;
}

static void write_all (int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
        TEST_ASSERT (n > 0);
        p += n;
        len -= n;
    }
}

/*  Reads exactly `len` bytes within a few seconds.  */
static void read_exactly (int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        struct pollfd pf = {fd, POLLIN, 0};
        TEST_ASSERT (poll (&pf, 1, 5000) == 1);
        ssize_t n = recv (fd, p, len, 0);
        TEST_ASSERT (n > 0);
        p += n;
        len -= n;
    }
}

/*  True once the peer has closed: reads return 0 within `ms`.  */
static int read_eof (int fd, int ms)
{
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll (&pf, 1, ms) != 1)
        return 0;
    char c;
    return recv (fd, &c, 1, 0) == 0;
}

/*  Receives [id][data]: the id into `id`, the data into `buf`; returns the data size.  */
static int recv_stream (void *s, id_t_ *id, void *buf, size_t cap)
{
    int n = zmq_recv (s, id->data, sizeof id->data, 0);
    TEST_ASSERT (n > 0 && n <= ID_MAX);
    id->size = (size_t) n;
    int more;
    size_t sz = sizeof more;
    TEST_OK (zmq_getsockopt (s, ZMQ_RCVMORE, &more, &sz));
    TEST_ASSERT (more == 1);
    n = zmq_recv (s, buf, cap, 0);
    TEST_ASSERT (n >= 0);
    TEST_OK (zmq_getsockopt (s, ZMQ_RCVMORE, &more, &sz));
    TEST_ASSERT (more == 0);
    return n;
}

/*  Expects the empty message announcing a connect or a disconnect.  */
static void recv_notify (void *s, id_t_ *id)
{
    char buf[8];
    TEST_ASSERT (recv_stream (s, id, buf, sizeof buf) == 0);
}

static void send_stream (void *s, const id_t_ *id, const void *data, size_t len)
{
    TEST_ASSERT (zmq_send (s, id->data, id->size, ZMQ_SNDMORE) == (int) id->size);
    TEST_ASSERT (zmq_send (s, data, len, 0) == (int) len);
}

static int same_id (const id_t_ *a, const id_t_ *b)
{
    return a->size == b->size && memcmp (a->data, b->data, a->size) == 0;
}

/*  Receives [id][data] with data exactly `expect` (reads may be split: collect them).  */
static void recv_bytes (void *s, const id_t_ *from, const char *expect)
{
    size_t want = strlen (expect), have = 0;
    char buf[256];
    while (have < want) {
        id_t_ id;
        int n = recv_stream (s, &id, buf + have, sizeof buf - have);
        TEST_ASSERT (n > 0 && same_id (&id, from));
        have += (size_t) n;
    }
    TEST_ASSERT (have == want && memcmp (buf, expect, want) == 0);
}

/*  A gone peer's id becomes unknown (EHOSTUNREACH) once the socket has run its commands;
    until then libzmq may still take (and drop) a message for it.  */
static void wait_unreachable (void *s, const id_t_ *id)
{
    for (int i = 0; i < 100; i++) {
        char buf[8];
        TEST_FAIL (zmq_recv (s, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
        int rc = zmq_send (s, id->data, id->size, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        if (rc == -1 && errno == EHOSTUNREACH)
            return;
        if (rc == (int) id->size)
            TEST_ASSERT (zmq_send (s, "x", 1, 0) == 1);
        else
            TEST_ASSERT (errno == EAGAIN);
        usleep (20000);
    }
    TEST_ASSERT (!"the id stays routable");
}

static void test_server_and_tcp_client (void *ctx)
{
    void *server = zmq_socket (ctx, ZMQ_STREAM);
    set_int (server, ZMQ_RCVTIMEO, 5000);
    TEST_OK (zmq_bind (server, "tcp://127.0.0.1:*"));
    int fd = tcp_client (port_of (server));

    /*  The connect is announced under a generated id: 0x00 and four octets.  */
    id_t_ id;
    recv_notify (server, &id);
    TEST_ASSERT (id.size == 5 && id.data[0] == 0);

    write_all (fd, "hello", 5);
    zmq_msg_t part;
    TEST_OK (zmq_msg_init (&part));
    TEST_ASSERT (zmq_msg_recv (&part, server, 0) == 5);
    TEST_ASSERT (memcmp (zmq_msg_data (&part), id.data, 5) == 0 && zmq_msg_more (&part));
    const char *addr = zmq_msg_gets (&part, "Peer-Address");
    TEST_ASSERT (addr && strcmp (addr, "127.0.0.1") == 0);
    TEST_ASSERT (zmq_msg_recv (&part, server, 0) == 5);
    TEST_ASSERT (memcmp (zmq_msg_data (&part), "hello", 5) == 0 && !zmq_msg_more (&part));
    addr = zmq_msg_gets (&part, "Peer-Address");
    TEST_ASSERT (addr && strcmp (addr, "127.0.0.1") == 0);
    TEST_OK (zmq_msg_close (&part));

    send_stream (server, &id, "world", 5);
    char buf[16];
    read_exactly (fd, buf, 5);
    TEST_ASSERT (memcmp (buf, "world", 5) == 0);

    /*  MORE on a data part is ignored: each message is one routing id and one data part.  */
    TEST_ASSERT (zmq_send (server, id.data, id.size, ZMQ_SNDMORE) == 5);
    TEST_ASSERT (zmq_send (server, "ab", 2, ZMQ_SNDMORE) == 2);
    send_stream (server, &id, "cd", 2);
    read_exactly (fd, buf, 4);
    TEST_ASSERT (memcmp (buf, "abcd", 4) == 0);

    /*  The peer hangs up: announced as an empty message from its id. Then the id is gone.  */
    close (fd);
    id_t_ gone;
    recv_notify (server, &gone);
    TEST_ASSERT (same_id (&gone, &id));
    wait_unreachable (server, &id);

    /*  Unknown ids likewise; a send that failed leaves no state behind.  */
    TEST_FAIL (zmq_send (server, "nobody", 6, ZMQ_SNDMORE), EHOSTUNREACH);
    fd = tcp_client (port_of (server));
    recv_notify (server, &id);
    send_stream (server, &id, "ok", 2);
    read_exactly (fd, buf, 2);
    TEST_ASSERT (memcmp (buf, "ok", 2) == 0);

    /*  An id part without MORE is dropped, and so is the part after it (taken for data to
        nobody), as in libzmq.  */
    TEST_ASSERT (zmq_send (server, id.data, id.size, 0) == 5);
    TEST_ASSERT (zmq_send (server, "lost", 4, 0) == 4);
    send_stream (server, &id, "kept", 4);
    read_exactly (fd, buf, 4);
    TEST_ASSERT (memcmp (buf, "kept", 4) == 0);

    /*  A STREAM socket can always send (unroutable messages fail or drop).  */
    int events;
    size_t sz = sizeof events;
    TEST_OK (zmq_getsockopt (server, ZMQ_EVENTS, &events, &sz));
    TEST_ASSERT (events & ZMQ_POLLOUT);
    close (fd);
    recv_notify (server, &gone);
    TEST_OK (zmq_close (server));
}

static void test_close_by_empty_message (void *ctx)
{
    void *server = zmq_socket (ctx, ZMQ_STREAM);
    set_int (server, ZMQ_RCVTIMEO, 5000);
    TEST_OK (zmq_bind (server, "tcp://127.0.0.1:*"));
    int fd = tcp_client (port_of (server));
    id_t_ id;
    recv_notify (server, &id);

    /*  Data queued before the empty message is still written, then the connection ends.  */
    send_stream (server, &id, "last words", 10);
    send_stream (server, &id, "", 0);
    char buf[16];
    read_exactly (fd, buf, 10);
    TEST_ASSERT (memcmp (buf, "last words", 10) == 0);
    /*  libzmq finishes the close only when the socket runs its commands: keep calling it.  */
    int eof = 0;
    for (int i = 0; i < 100 && !eof; i++) {
        TEST_FAIL (zmq_recv (server, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
        eof = read_eof (fd, 50);
    }
    TEST_ASSERT (eof);
    /*  No disconnect notification for a connection we closed.  */
    set_int (server, ZMQ_RCVTIMEO, 200);
    TEST_FAIL (zmq_recv (server, buf, sizeof buf, 0), EAGAIN);
    wait_unreachable (server, &id);
    close (fd);
    TEST_OK (zmq_close (server));
}

static void test_client_and_tcp_server (void *ctx)
{
    int port;
    int listener = tcp_listener (&port);
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", port);

    void *client = zmq_socket (ctx, ZMQ_STREAM);
    set_int (client, ZMQ_RCVTIMEO, 5000);
    set_int (client, ZMQ_RECONNECT_IVL, 50);
    TEST_OK (zmq_connect (client, ep));
    /*  The peer's id is known at once, as ZMQ_ROUTING_ID, and data may be sent before the
        connection is up (it waits in the pipe, as libzmq's connect makes one).  */
    id_t_ id;
    id.size = sizeof id.data;
    TEST_OK (zmq_getsockopt (client, ZMQ_ROUTING_ID, id.data, &id.size));
    TEST_ASSERT (id.size == 5 && id.data[0] == 0);
    send_stream (client, &id, "early", 5);

    int fd = accept_within (listener, 5000);
    id_t_ got;
    recv_notify (client, &got);
    TEST_ASSERT (same_id (&got, &id));
    char buf[16];
    read_exactly (fd, buf, 5);
    TEST_ASSERT (memcmp (buf, "early", 5) == 0);
    write_all (fd, "reply", 5);
    recv_bytes (client, &id, "reply");

    /*  The server hangs up: announced; then the connecter reconnects under the same id.  */
    close (fd);
    recv_notify (client, &got);
    TEST_ASSERT (same_id (&got, &id));
    fd = accept_within (listener, 5000);
    recv_notify (client, &got);
    TEST_ASSERT (same_id (&got, &id));
    send_stream (client, &id, "again", 5);
    read_exactly (fd, buf, 5);
    TEST_ASSERT (memcmp (buf, "again", 5) == 0);

    /*  ZMQ_CONNECT_ROUTING_ID names the next connect's peer; ZMQ_ROUTING_ID stays.  */
    TEST_OK (zmq_setsockopt (client, ZMQ_CONNECT_ROUTING_ID, "named", 5));
    TEST_OK (zmq_connect (client, ep));
    int fd2 = accept_within (listener, 5000);
    recv_notify (client, &got);
    TEST_ASSERT (got.size == 5 && memcmp (got.data, "named", 5) == 0);
    id_t_ opt;
    opt.size = sizeof opt.data;
    TEST_OK (zmq_getsockopt (client, ZMQ_ROUTING_ID, opt.data, &opt.size));
    TEST_ASSERT (same_id (&opt, &id));
    send_stream (client, &got, "to named", 8);
    read_exactly (fd2, buf, 8);
    TEST_ASSERT (memcmp (buf, "to named", 8) == 0);

    /*  Closing a connecter's connection by empty message ends it: no reconnect.  */
    send_stream (client, &got, "", 0);
    int eof = 0;
    for (int i = 0; i < 100 && !eof; i++) {
        TEST_FAIL (zmq_recv (client, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
        eof = read_eof (fd2, 50);
    }
    TEST_ASSERT (eof);
    struct pollfd p = {listener, POLLIN, 0};
    TEST_ASSERT (poll (&p, 1, 300) == 0);

    set_int (client, ZMQ_LINGER, 0);
    TEST_OK (zmq_close (client));
    close (fd);
    close (fd2);
    close (listener);
}

static void test_stream_to_stream (void *ctx)
{
    void *server = zmq_socket (ctx, ZMQ_STREAM);
    void *client = zmq_socket (ctx, ZMQ_STREAM);
    set_int (server, ZMQ_RCVTIMEO, 5000);
    set_int (client, ZMQ_RCVTIMEO, 5000);
    TEST_OK (zmq_bind (server, "tcp://127.0.0.1:*"));
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", port_of (server));
    TEST_OK (zmq_setsockopt (client, ZMQ_CONNECT_ROUTING_ID, "srv", 3));
    TEST_OK (zmq_connect (client, ep));

    id_t_ to_server, to_client;
    recv_notify (client, &to_server);
    TEST_ASSERT (to_server.size == 3 && memcmp (to_server.data, "srv", 3) == 0);
    recv_notify (server, &to_client);
    send_stream (client, &to_server, "ping", 4);
    recv_bytes (server, &to_client, "ping");
    send_stream (server, &to_client, "pong", 4);
    recv_bytes (client, &to_server, "pong");

    /*  The server closes it: the client hears of it (and will reconnect). libzmq's server
        finishes the close only when it runs its commands: keep calling it.  */
    send_stream (server, &to_client, "", 0);
    id_t_ got;
    int heard = 0;
    for (int i = 0; i < 100 && !heard; i++) {
        char buf[8];
        TEST_FAIL (zmq_recv (server, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
        int n = zmq_recv (client, got.data, sizeof got.data, ZMQ_DONTWAIT);
        if (n == -1) {
            TEST_ASSERT (errno == EAGAIN);
            usleep (20000);
            continue;
        }
        got.size = (size_t) n;
        TEST_ASSERT (zmq_recv (client, buf, sizeof buf, 0) == 0);
        heard = 1;
    }
    TEST_ASSERT (heard && same_id (&got, &to_server));
    set_int (client, ZMQ_LINGER, 0);
    TEST_OK (zmq_close (client));
    TEST_OK (zmq_close (server));
}

static void test_notify_off (void *ctx)
{
    void *server = zmq_socket (ctx, ZMQ_STREAM);
    /*  Write-only in libzmq.  */
    int notify;
    size_t sz = sizeof notify;
    TEST_FAIL (zmq_getsockopt (server, ZMQ_STREAM_NOTIFY, &notify, &sz), EINVAL);
    set_int (server, ZMQ_STREAM_NOTIFY, 0);
    TEST_FAIL (zmq_setsockopt (server, ZMQ_STREAM_NOTIFY, (int[]){2}, sizeof (int)), EINVAL);
    set_int (server, ZMQ_RCVTIMEO, 5000);
    TEST_OK (zmq_bind (server, "tcp://127.0.0.1:*"));
    int fd = tcp_client (port_of (server));
    write_all (fd, "x", 1);
    /*  No connect message: the first thing received is the data.  */
    id_t_ id;
    char buf[8];
    TEST_ASSERT (recv_stream (server, &id, buf, sizeof buf) == 1 && buf[0] == 'x');
    send_stream (server, &id, "y", 1);
    read_exactly (fd, buf, 1);
    TEST_ASSERT (buf[0] == 'y');
    close (fd);
    /*  ...nor a disconnect message.  */
    set_int (server, ZMQ_RCVTIMEO, 300);
    TEST_FAIL (zmq_recv (server, buf, sizeof buf, 0), EAGAIN);
    TEST_OK (zmq_close (server));
}

#define CLIENTS 50

static void test_many_clients (void *ctx)
{
    void *server = zmq_socket (ctx, ZMQ_STREAM);
    set_int (server, ZMQ_RCVTIMEO, 5000);
    TEST_OK (zmq_bind (server, "tcp://127.0.0.1:*"));
    int port = port_of (server);
    int fds[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = tcp_client (port);
        char hello[16];
        int len = snprintf (hello, sizeof hello, "client %02d", i);
        write_all (fds[i], hello, (size_t) len);
    }
    /*  Each connection: a notify, then its greeting (in one piece: 9 octets); answer it.  */
    id_t_ ids[CLIENTS];
    int seen_notify[CLIENTS] = {0}, answered = 0;
    id_t_ pending[CLIENTS];
    int npending = 0;
    while (answered < CLIENTS) {
        id_t_ id;
        char buf[32];
        int n = recv_stream (server, &id, buf, sizeof buf);
        if (n == 0) {
            pending[npending++] = id;
            continue;
        }
        TEST_ASSERT (n == 9 && memcmp (buf, "client ", 7) == 0);
        int i = (buf[7] - '0') * 10 + (buf[8] - '0');
        TEST_ASSERT (i >= 0 && i < CLIENTS && !seen_notify[i]);
        /*  Its notify came first, under the same id.  */
        int found = 0;
        for (int k = 0; k < npending; k++)
            found |= same_id (&pending[k], &id);
        TEST_ASSERT (found);
        seen_notify[i] = 1;
        ids[i] = id;
        char reply[16];
        int len = snprintf (reply, sizeof reply, "hello %02d", i);
        send_stream (server, &id, reply, (size_t) len);
        answered++;
    }
    for (int i = 0; i < CLIENTS; i++) {
        char buf[16], want[16];
        snprintf (want, sizeof want, "hello %02d", i);
        read_exactly (fds[i], buf, 8);
        TEST_ASSERT (memcmp (buf, want, 8) == 0);
        for (int k = 0; k < i; k++)
            TEST_ASSERT (!same_id (&ids[k], &ids[i]));
    }
    for (int i = 0; i < CLIENTS; i++)
        close (fds[i]);
    for (int i = 0; i < CLIENTS; i++) {
        id_t_ id;
        recv_notify (server, &id);
    }
    TEST_OK (zmq_close (server));
}

static void test_large_data (void *ctx)
{
    void *server = zmq_socket (ctx, ZMQ_STREAM);
    set_int (server, ZMQ_RCVTIMEO, 5000);
    TEST_OK (zmq_bind (server, "tcp://127.0.0.1:*"));
    int fd = tcp_client (port_of (server));
    id_t_ id;
    recv_notify (server, &id);

    size_t size = 1 << 20;
    unsigned char *out = malloc (size), *in = malloc (size);
    TEST_ASSERT (out && in);
    for (size_t i = 0; i < size; i++)
        out[i] = (unsigned char) (i * 7 + i / 251);
    /*  Server to client, in one message.  */
    send_stream (server, &id, out, size);
    read_exactly (fd, in, size);
    TEST_ASSERT (memcmp (in, out, size) == 0);
    /*  Client to server: arrives in pieces (one per read), in order.  */
    write_all (fd, out, size);
    size_t have = 0;
    while (have < size) {
        id_t_ from;
        int n = recv_stream (server, &from, in + have, size - have);
        TEST_ASSERT (n > 0 && same_id (&from, &id));
        have += (size_t) n;
    }
    TEST_ASSERT (memcmp (in, out, size) == 0);
    free (out);
    free (in);
    close (fd);
    recv_notify (server, &id);
    TEST_OK (zmq_close (server));
}

static void test_ipc (void *ctx)
{
    void *server = zmq_socket (ctx, ZMQ_STREAM);
    set_int (server, ZMQ_RCVTIMEO, 5000);
    char path[64];
    snprintf (path, sizeof path, "/tmp/ferrozmq-test-stream-%d", (int) getpid ());
    char ep[80];
    snprintf (ep, sizeof ep, "ipc://%s", path);
    TEST_OK (zmq_bind (server, ep));
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    memset (&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strcpy (a.sun_path, path);
    TEST_ASSERT (connect (fd, (struct sockaddr *) &a, sizeof a) == 0);
    id_t_ id;
    recv_notify (server, &id);
    write_all (fd, "over ipc", 8);
    recv_bytes (server, &id, "over ipc");
    send_stream (server, &id, "back", 4);
    char buf[8];
    read_exactly (fd, buf, 4);
    TEST_ASSERT (memcmp (buf, "back", 4) == 0);
    close (fd);
    id_t_ gone;
    recv_notify (server, &gone);
    TEST_ASSERT (same_id (&gone, &id));

    /*  A STREAM connecter over ipc, to a STREAM binder.  */
    void *client = zmq_socket (ctx, ZMQ_STREAM);
    set_int (client, ZMQ_RCVTIMEO, 5000);
    TEST_OK (zmq_connect (client, ep));
    id_t_ to_server, to_client;
    recv_notify (client, &to_server);
    recv_notify (server, &to_client);
    send_stream (client, &to_server, "hi", 2);
    recv_bytes (server, &to_client, "hi");
    set_int (client, ZMQ_LINGER, 0);
    TEST_OK (zmq_close (client));
    TEST_OK (zmq_close (server));
}

/*  libzmq's raw connections have no handshake, so each hang-up by the peer is reported as a
    failed handshake (NO_DETAIL with EPIPE) before DISCONNECTED; none succeeds.  */
static void test_monitor (void *ctx)
{
    void *server = zmq_socket (ctx, ZMQ_STREAM);
    set_int (server, ZMQ_RCVTIMEO, 5000);
    TEST_OK (zmq_bind (server, "tcp://127.0.0.1:*"));
    TEST_OK (zmq_socket_monitor (server, "inproc://stream-monitor", ZMQ_EVENT_ALL));
    void *mon = zmq_socket (ctx, ZMQ_PAIR);
    set_int (mon, ZMQ_RCVTIMEO, 5000);
    TEST_OK (zmq_connect (mon, "inproc://stream-monitor"));
    int fd = tcp_client (port_of (server));
    id_t_ id;
    recv_notify (server, &id);
    close (fd);
    recv_notify (server, &id);

    int want[][2] = {{ZMQ_EVENT_ACCEPTED, -1},
                     {ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, EPIPE},
                     {ZMQ_EVENT_DISCONNECTED, -1}};
    for (int i = 0; i < 3; i++) {
        unsigned char head[6];
        char addr[256];
        TEST_ASSERT (zmq_recv (mon, head, sizeof head, 0) == 6);
        TEST_ASSERT (zmq_recv (mon, addr, sizeof addr, 0) > 0);
        uint16_t ev;
        uint32_t value;
        memcpy (&ev, head, 2);
        memcpy (&value, head + 2, 4);
        TEST_ASSERT (ev == want[i][0]);
        TEST_ASSERT (want[i][1] == -1 || (int) value == want[i][1]);
    }
    TEST_OK (zmq_close (server));
    TEST_OK (zmq_close (mon));
}

#define RUN(test)                                                                          \
    do {                                                                                   \
        if (verbose)                                                                       \
            fprintf (stderr, "%s\n", #test);                                               \
        test (ctx);                                                                        \
    } while (0)

int main (void)
{
    test_setup (120);
    int verbose = getenv ("TEST_VERBOSE") != NULL;
    void *ctx = zmq_ctx_new ();
    RUN (test_server_and_tcp_client);
    RUN (test_close_by_empty_message);
    RUN (test_client_and_tcp_server);
    RUN (test_stream_to_stream);
    RUN (test_notify_off);
    RUN (test_many_clients);
    RUN (test_large_data);
    RUN (test_ipc);
    RUN (test_monitor);
    TEST_OK (zmq_ctx_term (ctx));
    return 0;
}
