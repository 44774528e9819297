/*  zmq_socket_monitor_pipes_stats (draft): EINVAL unless a version-2 monitor asks for
    ZMQ_EVENT_PIPES_STATS, EAGAIN without pipes, else one event per pipe whose two values
    are its outbound and inbound queue lengths (libzmq 4.3.5's behaviour; Debian's
    libzmq is built without the draft API, so this runs on ferrozmq only).  */
#define ZMQ_BUILD_DRAFT_API
#include "netutil.h"

/*  Reads one version-2 event: returns the event, its values in `v` (up to 2).  */
static uint64_t read_v2 (void *mon, uint64_t *v, int *nv)
{
    set_int (mon, ZMQ_RCVTIMEO, 2000);
    uint64_t event, count;
    TEST_ASSERT (zmq_recv (mon, &event, sizeof event, 0) == sizeof event);
    TEST_ASSERT (zmq_recv (mon, &count, sizeof count, 0) == sizeof count);
    TEST_ASSERT (count <= 2);
    for (uint64_t i = 0; i < count; i++)
        TEST_ASSERT (zmq_recv (mon, &v[i], sizeof v[i], 0) == sizeof v[i]);
    char ep[256];
    TEST_ASSERT (zmq_recv (mon, ep, sizeof ep, 0) >= 0); /* local */
    TEST_ASSERT (zmq_recv (mon, ep, sizeof ep, 0) >= 0); /* remote */
    TEST_ASSERT (!get_int (mon, ZMQ_RCVMORE));
    *nv = (int) count;
    return event;
}

int main (void)
{
    net_setup ();
    void *ctx = zmq_ctx_new ();
    void *push = new_socket (ctx, ZMQ_PUSH);
    void *pull = new_socket (ctx, ZMQ_PULL);
    TEST_FAIL (zmq_socket_monitor_pipes_stats (push), EINVAL);
    TEST_OK (zmq_socket_monitor_versioned (push, "inproc://stats-push", ZMQ_EVENT_PIPES_STATS, 2,
                                           ZMQ_PAIR));
    TEST_OK (zmq_socket_monitor_versioned (pull, "inproc://stats-pull", ZMQ_EVENT_PIPES_STATS, 2,
                                           ZMQ_PAIR));
    void *mpush = new_socket (ctx, ZMQ_PAIR);
    void *mpull = new_socket (ctx, ZMQ_PAIR);
    TEST_OK (zmq_connect (mpush, "inproc://stats-push"));
    TEST_OK (zmq_connect (mpull, "inproc://stats-pull"));
    TEST_FAIL (zmq_socket_monitor_pipes_stats (push), EAGAIN);
    TEST_OK (zmq_bind (pull, "inproc://stats"));
    TEST_OK (zmq_connect (push, "inproc://stats"));
    for (int i = 0; i < 5; i++)
        send_str (push, "queued");
    TEST_OK (zmq_socket_monitor_pipes_stats (push));
    TEST_OK (zmq_socket_monitor_pipes_stats (pull));
    uint64_t v[2];
    int nv;
    TEST_ASSERT (read_v2 (mpush, v, &nv) == ZMQ_EVENT_PIPES_STATS);
    TEST_ASSERT (nv == 2 && v[0] == 5 && v[1] == 0);
    TEST_ASSERT (read_v2 (mpull, v, &nv) == ZMQ_EVENT_PIPES_STATS);
    TEST_ASSERT (nv == 2 && v[0] == 0 && v[1] == 5);
    zmq_close (mpush);
    zmq_close (mpull);
    set_int (push, ZMQ_LINGER, 0);
    zmq_close (push);
    zmq_close (pull);
    zmq_ctx_term (ctx);
    return 0;
}
