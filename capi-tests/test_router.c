/*  ROUTER over inproc: routing ids (explicit, generated, CONNECT_ROUTING_ID), routing and
    dropping, ROUTER_MANDATORY, ROUTER_HANDOVER, PROBE_ROUTER, ZMQ_EVENTS, fair queuing,
    ROUTER to ROUTER, and threads.  */
#include "msgutil.h"
#include <pthread.h>
#include <stdarg.h>

static int one = 1;

static void recv_nothing (void *s)
{
    char buf[64];
    TEST_FAIL (zmq_recv (s, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
}

/*  Peers without a routing id get a generated one: 5 bytes, a zero byte first.  */
static void test_generated_ids (void *ctx)
{
    void *router = new_socket (ctx, ZMQ_ROUTER);
    TEST_OK (zmq_bind (router, "inproc://gen"));
    void *dealers[3];
    unsigned char ids[3][8];
    for (int i = 0; i < 3; i++) {
        dealers[i] = new_socket (ctx, ZMQ_DEALER);
        TEST_OK (zmq_connect (dealers[i], "inproc://gen"));
        send_str (dealers[i], "hi", 0);
        TEST_ASSERT (zmq_recv (router, ids[i], sizeof ids[i], 0) == 5);
        TEST_ASSERT (rcvmore (router));
        TEST_ASSERT (ids[i][0] == 0);
        recv_part (router, "hi", 0);
    }
    TEST_ASSERT (memcmp (ids[0], ids[1], 5) != 0 && memcmp (ids[1], ids[2], 5) != 0);
    TEST_ASSERT (memcmp (ids[0], ids[2], 5) != 0);
    /*  Replies find each peer by its generated id.  */
    for (int i = 2; i >= 0; i--) {
        TEST_ASSERT (zmq_send (router, ids[i], 5, ZMQ_SNDMORE) == 5);
        char body[4] = {'r', (char) ('0' + i), 0};
        send_str (router, body, 0);
    }
    for (int i = 0; i < 3; i++) {
        char body[4] = {'r', (char) ('0' + i), 0};
        recv_msg (dealers[i], body, NULL);
        zmq_close (dealers[i]);
    }
    zmq_close (router);
}

/*  Explicit ids, multipart in both directions, unknown ids dropped.  */
static void test_routing (void *ctx)
{
    void *router = new_socket (ctx, ZMQ_ROUTER);
    void *a = new_socket (ctx, ZMQ_DEALER);
    void *b = new_socket (ctx, ZMQ_DEALER);
    TEST_OK (zmq_setsockopt (a, ZMQ_ROUTING_ID, "A", 1));
    TEST_OK (zmq_setsockopt (b, ZMQ_ROUTING_ID, "B", 1));
    /*  One peer connects before the bind, one after.  */
    TEST_OK (zmq_connect (a, "inproc://routing"));
    TEST_OK (zmq_bind (router, "inproc://routing"));
    TEST_OK (zmq_connect (b, "inproc://routing"));
    send_msg (a, "1", "2", NULL);
    recv_msg (router, "A", "1", "2", NULL);
    send_msg (b, "x", NULL);
    recv_msg (router, "B", "x", NULL);
    send_msg (router, "B", "to", "b", NULL);
    send_msg (router, "A", "to-a", NULL);
    recv_msg (b, "to", "b", NULL);
    recv_msg (a, "to-a", NULL);
    /*  Unknown peer: silently dropped, the whole message.  */
    send_msg (router, "C", "lost", "too", NULL);
    /*  A routing id part alone is no message; the next part is taken as a routing id.  */
    send_msg (router, "A", NULL);
    send_msg (router, "lost", NULL);
    send_msg (router, "A", "", NULL);
    recv_msg (a, "", NULL);
    recv_nothing (a);
    recv_nothing (b);
    /*  An empty message arrives as [id][""].  */
    send_str (a, "", 0);
    recv_msg (router, "A", "", NULL);
    /*  ROUTER has no send restrictions: POLLOUT always, even with no peers.  */
    TEST_ASSERT (events (router) == ZMQ_POLLOUT);
    void *lonely = new_socket (ctx, ZMQ_ROUTER);
    TEST_ASSERT (events (lonely) == ZMQ_POLLOUT);
    TEST_ASSERT (zmq_send (lonely, "nobody", 6, ZMQ_SNDMORE) == 6);
    send_str (lonely, "x", 0);
    /*  POLLIN as soon as a message is queued, until its last part is read.  */
    send_msg (b, "p1", "p2", NULL);
    TEST_ASSERT (events (router) == (ZMQ_POLLIN | ZMQ_POLLOUT));
    recv_part (router, "B", 1);
    TEST_ASSERT (events (router) & ZMQ_POLLIN);
    recv_part (router, "p1", 1);
    TEST_ASSERT (events (router) & ZMQ_POLLIN);
    recv_part (router, "p2", 0);
    TEST_ASSERT (events (router) == ZMQ_POLLOUT);
    /*  A peer that left can no longer be reached.  */
    zmq_close (a);
    send_msg (router, "A", "gone", NULL);
    zmq_close (b);
    zmq_close (lonely);
    zmq_close (router);
}

/*  ROUTER_MANDATORY: unroutable -> EHOSTUNREACH; full pipe -> EAGAIN (blocking sends
    wait, up to SNDTIMEO); POLLOUT only while some peer can take a message.  */
static void test_mandatory (void *ctx)
{
    void *router = new_socket (ctx, ZMQ_ROUTER);
    TEST_OK (zmq_setsockopt (router, ZMQ_ROUTER_MANDATORY, &one, sizeof one));
    TEST_ASSERT (events (router) == 0);
    TEST_FAIL (zmq_send (router, "X", 1, ZMQ_SNDMORE), EHOSTUNREACH);
    int hwm = 1;
    TEST_OK (zmq_setsockopt (router, ZMQ_SNDHWM, &hwm, sizeof hwm));
    TEST_OK (zmq_bind (router, "inproc://mandatory"));
    void *d = new_socket (ctx, ZMQ_DEALER);
    TEST_OK (zmq_setsockopt (d, ZMQ_RCVHWM, &hwm, sizeof hwm));
    TEST_OK (zmq_setsockopt (d, ZMQ_ROUTING_ID, "X", 1));
    TEST_OK (zmq_connect (d, "inproc://mandatory"));
    TEST_ASSERT (events (router) == ZMQ_POLLOUT);
    TEST_FAIL (zmq_send (router, "Y", 1, ZMQ_SNDMORE | ZMQ_DONTWAIT), EHOSTUNREACH);
    TEST_FAIL (zmq_send (router, "Y", 1, ZMQ_SNDMORE), EHOSTUNREACH);
    /*  Only a routing id part with MORE is checked; alone it is dropped without error.  */
    TEST_ASSERT (zmq_send (router, "Y", 1, 0) == 1);
    /*  inproc capacity is SNDHWM + RCVHWM = 2.  */
    int sent = 0;
    while (zmq_send (router, "X", 1, ZMQ_SNDMORE | ZMQ_DONTWAIT) == 1) {
        send_str (router, "m", 0);
        sent++;
        TEST_ASSERT (sent < 100);
    }
    TEST_ASSERT (errno == EAGAIN);
    TEST_ASSERT (sent == 2);
    TEST_ASSERT (events (router) == 0);
    int timeout = 50;
    TEST_OK (zmq_setsockopt (router, ZMQ_SNDTIMEO, &timeout, sizeof timeout));
    TEST_FAIL (zmq_send (router, "X", 1, ZMQ_SNDMORE), EAGAIN);
    /*  Reading makes room again.  */
    recv_msg (d, "m", NULL);
    recv_msg (d, "m", NULL);
    TEST_ASSERT (events (router) == ZMQ_POLLOUT);
    send_msg (router, "X", "again", NULL);
    recv_msg (d, "again", NULL);
    /*  The peer leaves: unreachable again (libzmq notices the close asynchronously).  */
    zmq_close (d);
    int rc;
    for (int i = 0; i < 100 && (rc = zmq_send (router, "X", 1, ZMQ_SNDMORE)) == 1; i++) {
        send_str (router, "late", 0);
        usleep (10000);
    }
    TEST_ASSERT (rc == -1 && errno == EHOSTUNREACH);
    for (int i = 0; i < 100 && events (router) != 0; i++)
        usleep (10000);
    TEST_ASSERT (events (router) == 0);
    zmq_close (router);

    /*  Without ROUTER_MANDATORY a full pipe drops messages instead.  */
    router = new_socket (ctx, ZMQ_ROUTER);
    TEST_OK (zmq_setsockopt (router, ZMQ_SNDHWM, &hwm, sizeof hwm));
    TEST_OK (zmq_bind (router, "inproc://dropping"));
    d = new_socket (ctx, ZMQ_DEALER);
    TEST_OK (zmq_setsockopt (d, ZMQ_RCVHWM, &hwm, sizeof hwm));
    TEST_OK (zmq_setsockopt (d, ZMQ_ROUTING_ID, "X", 1));
    TEST_OK (zmq_connect (d, "inproc://dropping"));
    for (int i = 0; i < 5; i++) {
        char body[4] = {(char) ('0' + i), 0};
        send_msg (router, "X", body, NULL);
    }
    recv_msg (d, "0", NULL);
    recv_msg (d, "1", NULL);
    recv_nothing (d);
    zmq_close (d);
    zmq_close (router);
}

/*  A second peer with an id in use: refused by default (its messages are never read,
    replies still go to the first); with ROUTER_HANDOVER it takes the id over.  */
static void test_duplicate_ids (void *ctx)
{
    void *router = new_socket (ctx, ZMQ_ROUTER);
    TEST_OK (zmq_bind (router, "inproc://dup"));
    void *d1 = new_socket (ctx, ZMQ_DEALER);
    void *d2 = new_socket (ctx, ZMQ_DEALER);
    TEST_OK (zmq_setsockopt (d1, ZMQ_ROUTING_ID, "A", 1));
    TEST_OK (zmq_setsockopt (d2, ZMQ_ROUTING_ID, "A", 1));
    TEST_OK (zmq_connect (d1, "inproc://dup"));
    send_str (d1, "from-1", 0);
    recv_msg (router, "A", "from-1", NULL);
    TEST_OK (zmq_connect (d2, "inproc://dup"));
    send_str (d2, "from-2", 0);
    send_str (d1, "again-1", 0);
    recv_msg (router, "A", "again-1", NULL);
    recv_nothing (router);
    send_msg (router, "A", "to-A", NULL);
    recv_msg (d1, "to-A", NULL);
    recv_nothing (d2);
    zmq_close (d1);
    zmq_close (d2);
    zmq_close (router);

    router = new_socket (ctx, ZMQ_ROUTER);
    TEST_OK (zmq_setsockopt (router, ZMQ_ROUTER_HANDOVER, &one, sizeof one));
    TEST_OK (zmq_bind (router, "inproc://handover"));
    d1 = new_socket (ctx, ZMQ_DEALER);
    d2 = new_socket (ctx, ZMQ_DEALER);
    TEST_OK (zmq_setsockopt (d1, ZMQ_ROUTING_ID, "A", 1));
    TEST_OK (zmq_setsockopt (d2, ZMQ_ROUTING_ID, "A", 1));
    TEST_OK (zmq_connect (d1, "inproc://handover"));
    send_str (d1, "from-1", 0);
    recv_msg (router, "A", "from-1", NULL);
    TEST_OK (zmq_connect (d2, "inproc://handover"));
    send_str (d2, "from-2", 0);
    recv_msg (router, "A", "from-2", NULL);
    send_msg (router, "A", "to-A", NULL);
    recv_msg (d2, "to-A", NULL);
    recv_nothing (d1);
    /*  The old connection was closed: d1 has no peer left.  */
    TEST_FAIL (zmq_send (d1, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    zmq_close (d1);
    zmq_close (d2);
    zmq_close (router);
}

/*  PROBE_ROUTER: DEALER and ROUTER peers announce themselves with an empty message.  */
static void test_probe_router (void *ctx)
{
    void *router = new_socket (ctx, ZMQ_ROUTER);
    TEST_OK (zmq_bind (router, "inproc://probe"));
    void *dealer = new_socket (ctx, ZMQ_DEALER);
    TEST_OK (zmq_setsockopt (dealer, ZMQ_ROUTING_ID, "D", 1));
    TEST_OK (zmq_setsockopt (dealer, ZMQ_PROBE_ROUTER, &one, sizeof one));
    TEST_OK (zmq_connect (dealer, "inproc://probe"));
    recv_msg (router, "D", "", NULL);
    void *client = new_socket (ctx, ZMQ_ROUTER);
    TEST_OK (zmq_setsockopt (client, ZMQ_ROUTING_ID, "R", 1));
    TEST_OK (zmq_setsockopt (client, ZMQ_PROBE_ROUTER, &one, sizeof one));
    TEST_OK (zmq_connect (client, "inproc://probe"));
    recv_msg (router, "R", "", NULL);
    /*  The probe lets the server answer first; the server has no id of its own, so the
        client knows it by a generated one.  */
    send_msg (router, "R", "welcome", NULL);
    unsigned char id[8];
    TEST_ASSERT (zmq_recv (client, id, sizeof id, 0) == 5 && id[0] == 0);
    recv_part (client, "welcome", 0);
    TEST_ASSERT (zmq_send (client, id, 5, ZMQ_SNDMORE) == 5);
    send_str (client, "thanks", 0);
    recv_msg (router, "R", "thanks", NULL);
    zmq_close (client);
    zmq_close (dealer);
    zmq_close (router);
}

/*  ROUTER to ROUTER with explicit ids on both sides.  */
static void test_router_router (void *ctx)
{
    void *server = new_socket (ctx, ZMQ_ROUTER);
    void *client = new_socket (ctx, ZMQ_ROUTER);
    TEST_OK (zmq_setsockopt (server, ZMQ_ROUTING_ID, "S", 1));
    TEST_OK (zmq_setsockopt (client, ZMQ_ROUTING_ID, "C", 1));
    TEST_OK (zmq_setsockopt (client, ZMQ_ROUTER_MANDATORY, &one, sizeof one));
    TEST_OK (zmq_bind (server, "inproc://rr"));
    TEST_OK (zmq_connect (client, "inproc://rr"));
    /*  The server knows the client as soon as it looks.  */
    send_msg (server, "C", "hello", NULL);
    recv_msg (client, "S", "hello", NULL);
    send_msg (client, "S", "hi", "there", NULL);
    recv_msg (server, "C", "hi", "there", NULL);
    zmq_close (client);
    zmq_close (server);
}

/*  CONNECT_ROUTING_ID names the peer of the next connect, usable at once; it applies to
    that connect only. The peer's own id is then not reported as a message.  */
static void test_connect_routing_id (void *ctx)
{
    void *s1 = new_socket (ctx, ZMQ_ROUTER);
    void *s2 = new_socket (ctx, ZMQ_ROUTER);
    TEST_OK (zmq_setsockopt (s1, ZMQ_ROUTING_ID, "S1", 2));
    TEST_OK (zmq_setsockopt (s2, ZMQ_ROUTING_ID, "S2", 2));
    TEST_OK (zmq_bind (s1, "inproc://cri-1"));
    TEST_OK (zmq_bind (s2, "inproc://cri-2"));
    void *client = new_socket (ctx, ZMQ_ROUTER);
    TEST_OK (zmq_setsockopt (client, ZMQ_ROUTER_MANDATORY, &one, sizeof one));
    TEST_OK (zmq_setsockopt (client, ZMQ_ROUTING_ID, "C", 1));
    TEST_OK (zmq_setsockopt (client, ZMQ_CONNECT_ROUTING_ID, "first", 5));
    TEST_OK (zmq_connect (client, "inproc://cri-1"));
    send_msg (client, "first", "to-s1", NULL);
    recv_msg (s1, "C", "to-s1", NULL);
    send_msg (s1, "C", "back", NULL);
    recv_msg (client, "first", "back", NULL);
    recv_nothing (client);
    /*  The next connect names its peer by the peer's own id again.  */
    TEST_OK (zmq_connect (client, "inproc://cri-2"));
    send_msg (s2, "C", "from-s2", NULL);
    recv_msg (client, "S2", "from-s2", NULL);
    TEST_FAIL (zmq_send (client, "S1", 2, ZMQ_SNDMORE), EHOSTUNREACH);
    send_msg (client, "S2", "ok", NULL);
    recv_msg (s2, "C", "ok", NULL);
    zmq_close (client);
    zmq_close (s1);
    zmq_close (s2);
}

/*  Messages from several peers are fair-queued.  */
static void test_fair_queuing (void *ctx)
{
    void *router = new_socket (ctx, ZMQ_ROUTER);
    TEST_OK (zmq_bind (router, "inproc://fq"));
    void *d[3];
    for (int i = 0; i < 3; i++) {
        d[i] = new_socket (ctx, ZMQ_DEALER);
        char id[2] = {(char) ('a' + i), 0};
        TEST_OK (zmq_setsockopt (d[i], ZMQ_ROUTING_ID, id, 1));
        TEST_OK (zmq_connect (d[i], "inproc://fq"));
        for (int j = 0; j < 4; j++)
            send_str (d[i], id, 0);
    }
    int count[3] = {0, 0, 0};
    for (int round = 0; round < 4; round++) {
        int seen[3] = {0, 0, 0};
        for (int k = 0; k < 3; k++) {
            char id[4], body[4];
            TEST_ASSERT (zmq_recv (router, id, sizeof id, 0) == 1);
            TEST_ASSERT (zmq_recv (router, body, sizeof body, 0) == 1);
            TEST_ASSERT (id[0] == body[0]);
            int who = id[0] - 'a';
            TEST_ASSERT (who >= 0 && who < 3 && !seen[who]);
            seen[who] = 1;
            count[who]++;
        }
    }
    TEST_ASSERT (count[0] == 4 && count[1] == 4 && count[2] == 4);
    recv_nothing (router);
    for (int i = 0; i < 3; i++)
        zmq_close (d[i]);
    zmq_close (router);
}

/*  A peer that leaves mid-message: the rest of the message is dropped quietly.  */
static void test_peer_gone_mid_message (void *ctx)
{
    void *router = new_socket (ctx, ZMQ_ROUTER);
    TEST_OK (zmq_bind (router, "inproc://midmsg"));
    void *d = new_socket (ctx, ZMQ_DEALER);
    TEST_OK (zmq_setsockopt (d, ZMQ_ROUTING_ID, "D", 1));
    TEST_OK (zmq_connect (d, "inproc://midmsg"));
    send_str (d, "hi", 0);
    recv_msg (router, "D", "hi", NULL);
    send_str (router, "D", ZMQ_SNDMORE);
    send_str (router, "part1", ZMQ_SNDMORE);
    zmq_close (d);
    send_str (router, "part2", ZMQ_SNDMORE);
    send_str (router, "part3", 0);
    /*  The socket is still usable.  */
    void *d2 = new_socket (ctx, ZMQ_DEALER);
    TEST_OK (zmq_setsockopt (d2, ZMQ_ROUTING_ID, "E", 1));
    TEST_OK (zmq_connect (d2, "inproc://midmsg"));
    send_str (d2, "back", 0);
    recv_msg (router, "E", "back", NULL);
    send_msg (router, "E", "fine", NULL);
    recv_msg (d2, "fine", NULL);
    zmq_close (d2);
    zmq_close (router);
}

#define CLIENTS 4
#define MESSAGES 5000
#define BATCH 250

static void *dealer_client (void *arg)
{
    void *ctx = arg;
    void *d = zmq_socket (ctx, ZMQ_DEALER);
    int timeout = 10000;
    TEST_OK (zmq_setsockopt (d, ZMQ_RCVTIMEO, &timeout, sizeof timeout));
    TEST_OK (zmq_connect (d, "inproc://router-threads"));
    /*  Pipelined in batches well under the HWMs, echoes back in order.  */
    for (int i = 0; i < MESSAGES; i += BATCH) {
        for (int j = i; j < i + BATCH; j++)
            TEST_ASSERT (zmq_send (d, &j, sizeof j, 0) == sizeof j);
        for (int j = i; j < i + BATCH; j++) {
            int v = -1;
            TEST_ASSERT (zmq_recv (d, &v, sizeof v, 0) == sizeof v);
            TEST_ASSERT (v == j);
        }
    }
    zmq_close (d);
    return NULL;
}

static void *echo_server (void *arg)
{
    void *router = arg;
    for (int i = 0; i < CLIENTS * MESSAGES; i++) {
        zmq_msg_t id, body;
        zmq_msg_init (&id);
        zmq_msg_init (&body);
        TEST_ASSERT (zmq_msg_recv (&id, router, 0) == 5);
        TEST_ASSERT (zmq_msg_more (&id));
        TEST_ASSERT (zmq_msg_recv (&body, router, 0) == sizeof (int));
        TEST_ASSERT (zmq_msg_send (&id, router, ZMQ_SNDMORE) == 5);
        TEST_ASSERT (zmq_msg_send (&body, router, 0) == sizeof (int));
    }
    return NULL;
}

static void test_threads (void *ctx)
{
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    int timeout = 10000;
    TEST_OK (zmq_setsockopt (router, ZMQ_RCVTIMEO, &timeout, sizeof timeout));
    /*  Blocking sends rather than drops, should an echo ever meet a full pipe.  */
    TEST_OK (zmq_setsockopt (router, ZMQ_ROUTER_MANDATORY, &one, sizeof one));
    TEST_OK (zmq_bind (router, "inproc://router-threads"));
    pthread_t server, clients[CLIENTS];
    pthread_create (&server, NULL, echo_server, router);
    for (int i = 0; i < CLIENTS; i++)
        pthread_create (&clients[i], NULL, dealer_client, ctx);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join (clients[i], NULL);
    pthread_join (server, NULL);
    zmq_close (router);
}

int main (void)
{
    test_setup (60);
    void *ctx = zmq_ctx_new ();
    test_generated_ids (ctx);
    test_routing (ctx);
    test_mandatory (ctx);
    test_duplicate_ids (ctx);
    test_probe_router (ctx);
    test_router_router (ctx);
    test_connect_routing_id (ctx);
    test_fair_queuing (ctx);
    test_peer_gone_mid_message (ctx);
    test_threads (ctx);
    TEST_OK (zmq_ctx_term (ctx));
    return 0;
}
