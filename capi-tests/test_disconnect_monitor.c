/*  zmq_disconnect of an endpoint that is waiting to reconnect: the monitor still sees
    ZMQ_EVENT_CLOSED (libzmq's pending attempt runs and closes), so a program waiting for
    CLOSED does not hang. An endpoint whose connecter gave up by itself
    (ZMQ_RECONNECT_STOP_CONN_REFUSED) is gone: zmq_disconnect says ENOENT. Checked against
    Debian's libzmq with -DLIBZMQ_REFERENCE.  */
#define ZMQ_BUILD_DRAFT_API
#include "netutil.h"

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

int main (void)
{
    net_setup ();
    void *ctx = zmq_ctx_new ();
    test_reconnect_stop_forgets_endpoint (ctx);
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
