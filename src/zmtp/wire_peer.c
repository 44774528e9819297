/*  A libzmq peer for src/zmtp/wire_tests.rs, linked with the system's libzmq.

    peer TYPE ENDPOINT MODE N SECS [rid=..] [meta=X-K:V] [hb=ms] [hbttl=ms] [hbto=ms]
                                   [sub=topic] [maxmsg=n]
    ENDPOINT: "bind" (prints "PORT <endpoint>") or a tcp:// endpoint to connect to.
    MODE:
      echo    receive N messages, send each back
      client  send N messages of growing sizes, receive N, check they came back
      xpub    print N subscription messages, then publish "ab-data" and "zz-data"
      recv    print N received messages
      idle    stay connected
    Monitor events are printed as "EVENT <hex> <value>"; the peer exits after SECS.  */

#define ZMQ_BUILD_DRAFT_API
#include <zmq.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *mon;

static void hex (const char *tag, const void *p, size_t n)
{
    printf ("%s ", tag);
    for (size_t i = 0; i < n; i++)
        printf ("%02x", ((const unsigned char *) p)[i]);
    printf ("\n");
    fflush (stdout);
}

static void drain_events (void)
{
    zmq_msg_t m;
    while (1) {
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&m);
            return;
        }
        uint16_t ev;
        uint32_t val;
        memcpy (&ev, zmq_msg_data (&m), 2);
        memcpy (&val, (char *) zmq_msg_data (&m) + 2, 4);
        zmq_msg_close (&m);
        zmq_msg_init (&m);
        zmq_msg_recv (&m, mon, 0);
        zmq_msg_close (&m);
        printf ("EVENT %x %x\n", ev, val);
        fflush (stdout);
    }
}

/*  The size of the i-th message of the client mode: every tenth one is large.  */
static size_t msg_size (int i)
{
    return i % 10 == 9 ? (size_t) (300000 + i) : (size_t) (i * 37) % 500;
}

/*  Waits up to the deadline for input on s; 0 when it is time to stop.  */
static int wait_in (void *s, void *watch, long deadline_us)
{
    zmq_pollitem_t items[2] = {{s, 0, ZMQ_POLLIN, 0}, {mon, 0, ZMQ_POLLIN, 0}};
    while ((long) zmq_stopwatch_intermediate (watch) < deadline_us) {
        int rc = zmq_poll (items, 2, 20);
        drain_events ();
        if (rc > 0 && items[0].revents)
            return 1;
    }
    return 0;
}

/*  Receives one whole message into parts[]; returns the part count, 0 on timeout.  */
static int recv_msg (void *s, zmq_msg_t *parts, int max, void *w, long deadline)
{
    int n = 0;
    if (!wait_in (s, w, deadline))
        return 0;
    do {
        zmq_msg_init (&parts[n]);
        zmq_msg_recv (&parts[n], s, 0);
    } while (zmq_msg_more (&parts[n++]) && n < max);
    return n;
}

int main (int argc, char **argv)
{
    int type = atoi (argv[1]);
    const char *endpoint = argv[2], *mode = argv[3];
    int count = atoi (argv[4]);
    long deadline = atol (argv[5]) * 1000000L;
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    printf ("VERSION %d.%d.%d\n", major, minor, patch);

    void *ctx = zmq_ctx_new ();
    void *s = zmq_socket (ctx, type);
    zmq_socket_monitor (s, "inproc://mon", ZMQ_EVENT_ALL);
    mon = zmq_socket (ctx, ZMQ_PAIR);
    zmq_connect (mon, "inproc://mon");
    for (int i = 6; i < argc; i++) {
        char *a = argv[i], *v = strchr (a, '=') + 1;
        int iv = atoi (v);
        int64_t lv = atoll (v);
        if (!strncmp (a, "rid=", 4))
            zmq_setsockopt (s, ZMQ_ROUTING_ID, v, strlen (v));
        else if (!strncmp (a, "meta=", 5))
            zmq_setsockopt (s, ZMQ_METADATA, v, strlen (v));
        else if (!strncmp (a, "hb=", 3))
            zmq_setsockopt (s, ZMQ_HEARTBEAT_IVL, &iv, sizeof iv);
        else if (!strncmp (a, "hbttl=", 6))
            zmq_setsockopt (s, ZMQ_HEARTBEAT_TTL, &iv, sizeof iv);
        else if (!strncmp (a, "hbto=", 5))
            zmq_setsockopt (s, ZMQ_HEARTBEAT_TIMEOUT, &iv, sizeof iv);
        else if (!strncmp (a, "sub=", 4))
            zmq_setsockopt (s, ZMQ_SUBSCRIBE, v, strlen (v));
        else if (!strncmp (a, "maxmsg=", 7))
            zmq_setsockopt (s, ZMQ_MAXMSGSIZE, &lv, sizeof lv);
    }
    if (!strcmp (endpoint, "bind")) {
        char buf[256];
        size_t len = sizeof buf;
        if (zmq_bind (s, "tcp://127.0.0.1:*") != 0)
            return 2;
        zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &len);
        printf ("PORT %s\n", buf);
    } else if (zmq_connect (s, endpoint) != 0)
        return 2;
    fflush (stdout);

    void *w = zmq_stopwatch_start ();
    zmq_msg_t parts[16];
    if (!strcmp (mode, "echo")) {
        for (int i = 0; i < count; i++) {
            int n = recv_msg (s, parts, 16, w, deadline);
            if (n == 0)
                break;
            if (i == 0) {
                const char *st = zmq_msg_gets (&parts[n - 1], "Socket-Type");
                const char *x = zmq_msg_gets (&parts[n - 1], "X-Hello");
                printf ("META %s %s\n", st ? st : "-", x ? x : "-");
                if (type == ZMQ_ROUTER)
                    hex ("RID", zmq_msg_data (&parts[0]), zmq_msg_size (&parts[0]));
            }
            for (int j = 0; j < n; j++)
                zmq_msg_send (&parts[j], s, j < n - 1 ? ZMQ_SNDMORE : 0);
        }
        printf ("ECHOED\n");
    } else if (!strcmp (mode, "client")) {
        for (int i = 0; i < count; i++) {
            size_t size = msg_size (i);
            zmq_msg_t m;
            zmq_msg_init_size (&m, size);
            for (size_t j = 0; j < size; j++)
                ((unsigned char *) zmq_msg_data (&m))[j] = (unsigned char) (i + j);
            zmq_msg_send (&m, s, 0);
        }
        int good = 0;
        for (int i = 0; i < count; i++) {
            int n = recv_msg (s, parts, 16, w, deadline);
            if (n != 1)
                break;
            size_t size = msg_size (i);
            int ok = zmq_msg_size (&parts[0]) == size;
            for (size_t j = 0; ok && j < size; j++)
                ok = ((unsigned char *) zmq_msg_data (&parts[0]))[j] == (unsigned char) (i + j);
            good += ok;
            zmq_msg_close (&parts[0]);
        }
        printf ("GOOD %d\n", good);
    } else if (!strcmp (mode, "xpub")) {
        for (int i = 0; i < count; i++) {
            int n = recv_msg (s, parts, 16, w, deadline);
            if (n == 0)
                break;
            hex ("SUB", zmq_msg_data (&parts[0]), zmq_msg_size (&parts[0]));
        }
        for (int i = 0; i < 3; i++) {
            zmq_send (s, "ab-data", 7, 0);
            zmq_send (s, "zz-data", 7, 0);
        }
    } else if (!strcmp (mode, "recv")) {
        for (int i = 0; i < count; i++) {
            int n = recv_msg (s, parts, 16, w, deadline);
            if (n == 0)
                break;
            hex ("MSG", zmq_msg_data (&parts[0]), zmq_msg_size (&parts[0]));
        }
    }
    /*  Idle waits out its time; the others report late events for a moment.  */
    long until = (long) zmq_stopwatch_intermediate (w) + 300000L;
    if (!strcmp (mode, "idle") || until > deadline)
        until = deadline;
    zmq_pollitem_t item = {mon, 0, ZMQ_POLLIN, 0};
    while ((long) zmq_stopwatch_intermediate (w) < until) {
        zmq_poll (&item, 1, 20);
        drain_events ();
    }
    printf ("END\n");
    fflush (stdout);
    int zero = 0;
    zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (mon, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close (s);
    zmq_close (mon);
    zmq_ctx_term (ctx);
    return 0;
}
