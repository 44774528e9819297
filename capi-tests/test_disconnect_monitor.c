/*  zmq_disconnect of an endpoint that is waiting to reconnect: the monitor still sees
    ZMQ_EVENT_CLOSED (libzmq's pending attempt runs and closes), so a program waiting for
    CLOSED does not hang. An endpoint whose connecter gave up by itself
    (ZMQ_RECONNECT_STOP_CONN_REFUSED) is gone: zmq_disconnect says ENOENT. Checked against
    Debian's libzmq with -DLIBZMQ_REFERENCE.  */
#define ZMQ_BUILD_DRAFT_API
#include "netutil.h"
#include <sys/un.h>

static void test_reconnect_stop_forgets_endpoint (void *ctx)
{
    void *s = new_socket (ctx, ZMQ_DEALER);
    set_int (s, ZMQ_RECONNECT_STOP, ZMQ_RECONNECT_STOP_CONN_REFUSED);
    void *mon = monitor_open (ctx, s, "inproc://stop-mon", ZMQ_EVENT_CLOSED);
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", free_port ());
    TEST_OK (zmq_connect (s, ep));
    expect_event (mon, ZMQ_EVENT_CLOSED, NULL);
    /*  The connecter is gone once the socket hears of it: bounded retry.  */
    long end = now_ms () + 2000;
    int rc;
    while ((rc = zmq_disconnect (s, ep)) == 0 && now_ms () < end) {
        TEST_OK (zmq_connect (s, ep));
        expect_event (mon, ZMQ_EVENT_CLOSED, NULL);
    }
    TEST_ASSERT (rc == -1 && errno == ENOENT);
    TEST_OK (zmq_socket_monitor (s, NULL, 0));
    zmq_close (mon);
    set_int (s, ZMQ_LINGER, 0);
    zmq_close (s);
}

/*  ZMQ_RECONNECT_STOP_AFTER_DISCONNECT (libzmq 4.3.5): once zmq_disconnect has been
    called on the socket, an ipc connect that is refused stops retrying.  */
static void test_stop_after_disconnect (void *ctx)
{
    void *s = new_socket (ctx, ZMQ_DEALER);
    set_int (s, ZMQ_RECONNECT_IVL, 50);
    set_int (s, ZMQ_RECONNECT_STOP, ZMQ_RECONNECT_STOP_AFTER_DISCONNECT);
    void *mon = monitor_open (ctx, s, "inproc://after-mon", ZMQ_EVENT_CONNECT_RETRIED);
    char a[64], b[64];
    snprintf (a, sizeof a, "ipc:///tmp/ferrozmq-after-a-%d", (int) getpid ());
    snprintf (b, sizeof b, "ipc:///tmp/ferrozmq-after-b-%d", (int) getpid ());
    /*  A socket file nobody listens on: connecting is refused (ECONNREFUSED).  */
    struct sockaddr_un sa;
    memset (&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf (sa.sun_path, sizeof sa.sun_path, "%s", a + strlen ("ipc://"));
    unlink (sa.sun_path);
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    TEST_OK (bind (fd, (struct sockaddr *) &sa, sizeof sa));
    close (fd);
    TEST_OK (zmq_connect (s, a));
    TEST_OK (zmq_connect (s, b));
    /*  Refused and retrying, before any disconnect.  */
    expect_event (mon, ZMQ_EVENT_CONNECT_RETRIED, NULL);
    expect_event (mon, ZMQ_EVENT_CONNECT_RETRIED, NULL);
    TEST_OK (zmq_disconnect (s, b));
    /*  a's next refusal ends it: retries stop and the endpoint goes.  */
    long end = now_ms () + 2000;
    int rc;
    while ((rc = zmq_disconnect (s, a)) == 0 && now_ms () < end) {
        TEST_OK (zmq_connect (s, a));
        usleep (100000); /* several retry intervals */
    }
    TEST_ASSERT (rc == -1 && errno == ENOENT);
    unlink (sa.sun_path);
    /*  Drain what came before, then no more retries.  */
    while (read_event (mon, 200, NULL, NULL, 0) != -1)
        ;
    expect_no_event (mon, 300);
    TEST_OK (zmq_socket_monitor (s, NULL, 0));
    zmq_close (mon);
    set_int (s, ZMQ_LINGER, 0);
    zmq_close (s);
}

int main (void)
{
    net_setup ();
    void *ctx = zmq_ctx_new ();
    test_reconnect_stop_forgets_endpoint (ctx);
#ifndef LIBZMQ_REFERENCE /* Debian's 4.3.4 lacks this 4.3.5 draft flag */
    test_stop_after_disconnect (ctx);
#endif
    void *s = new_socket (ctx, ZMQ_DEALER);
    set_int (s, ZMQ_RECONNECT_IVL, 200);
    void *mon = monitor_open (ctx, s, "inproc://disc-mon", ZMQ_EVENT_ALL);
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", free_port ());
    TEST_OK (zmq_connect (s, ep));
    /*  Refused, closed, waiting to retry.  */
    expect_event_skip (mon, ZMQ_EVENT_CONNECT_RETRIED,
                       ZMQ_EVENT_CONNECT_DELAYED | ZMQ_EVENT_CLOSED, 5000, NULL, 0);
    TEST_OK (zmq_disconnect (s, ep));
    expect_event_skip (mon, ZMQ_EVENT_CLOSED,
                       ZMQ_EVENT_CONNECT_DELAYED | ZMQ_EVENT_CONNECT_RETRIED, 2000, NULL, 0);
    TEST_OK (zmq_socket_monitor (s, NULL, 0));
    zmq_close (mon);
    set_int (s, ZMQ_LINGER, 0);
    zmq_close (s);
    zmq_ctx_term (ctx);
    return 0;
}
