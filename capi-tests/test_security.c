/*  PLAIN, CURVE and ZAP between two sockets of ours (tcp and ipc): handshakes that succeed
    and messages that flow (multipart, large), ZAP's verdicts (200 with User-Id and
    metadata on every message, 300/400/500 refusing with HANDSHAKE_FAILED_AUTH), the
    behaviour without a handler for each mechanism, wrong passwords and server keys, and
    mechanism mismatches. Checked against Debian's libzmq with -DLIBZMQ_REFERENCE.  */
#include "netutil.h"
#include <pthread.h>

/*  libzmq's documented example key pairs (zmq_curve.adoc).  */
static const char *client_public = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
static const char *client_secret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
static const char *server_public = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
static const char *server_secret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

/*  The ZAP handler: a ROUTER at inproc://zeromq.zap.01 in its own thread.
    PLAIN: admin/password -> 200 "admin"; "later" -> 300; anything else -> 400.
    CURVE: the client key above -> 200 "curve-client"; others -> 400.
    NULL: domain "deny" -> 400, "fail" -> 500, otherwise 200 "anonymous".
    Every 200 carries the metadata property Hello=World.  */
static int zap_requests;

static int recv_frame (void *s, char *buf, size_t len)
{
    int n = zmq_recv (s, buf, len - 1, 0);
    TEST_ASSERT (n >= 0 && n < (int) len);
    buf[n] = 0;
    return n;
}

static void *zap_handler (void *arg)
{
    void *h = arg;
    for (;;) {
        char id[256], delim[8], version[16], reqid[64], domain[256], address[256], identity[256],
          mech[32], cred1[256] = "", cred2[256] = "";
        int idlen = zmq_recv (h, id, sizeof id, 0);
        if (idlen == -1)
            break; /* the context is shutting down */
        TEST_ASSERT (get_int (h, ZMQ_RCVMORE));
        if (idlen == 4 && memcmp (id, "STOP", 4) == 0) {
            recv_frame (h, delim, sizeof delim);
            break;
        }
        TEST_ASSERT (recv_frame (h, delim, sizeof delim) == 0);
        recv_frame (h, version, sizeof version);
        recv_frame (h, reqid, sizeof reqid);
        recv_frame (h, domain, sizeof domain);
        recv_frame (h, address, sizeof address);
        recv_frame (h, identity, sizeof identity);
        recv_frame (h, mech, sizeof mech);
        int n1 = 0;
        if (get_int (h, ZMQ_RCVMORE))
            n1 = recv_frame (h, cred1, sizeof cred1);
        if (get_int (h, ZMQ_RCVMORE))
            recv_frame (h, cred2, sizeof cred2);
        TEST_ASSERT (!get_int (h, ZMQ_RCVMORE));
        TEST_ASSERT (strcmp (version, "1.0") == 0);
        zap_requests++;
        const char *status = "400", *user = "";
        if (strcmp (mech, "PLAIN") == 0) {
            if (strcmp (cred1, "admin") == 0 && strcmp (cred2, "password") == 0)
                status = "200", user = "admin";
            else if (strcmp (cred1, "later") == 0)
                status = "300";
        } else if (strcmp (mech, "CURVE") == 0) {
            char text[41];
            TEST_ASSERT (n1 == 32);
            zmq_z85_encode (text, (uint8_t *) cred1, 32);
            if (strcmp (text, client_public) == 0)
                status = "200", user = "curve-client";
        } else {
            TEST_ASSERT (strcmp (mech, "NULL") == 0);
            if (strcmp (domain, "deny") == 0)
                status = "400";
            else if (strcmp (domain, "fail") == 0)
                status = "500";
            else
                status = "200", user = "anonymous";
        }
        /* Hello=World in ZMTP property format.  */
        const char meta[] = "\x05Hello\x00\x00\x00\x05World";
        int ok = strcmp (status, "200") == 0;
        TEST_ASSERT (zmq_send (h, id, idlen, ZMQ_SNDMORE) == idlen);
        TEST_ASSERT (zmq_send (h, "", 0, ZMQ_SNDMORE) == 0);
        TEST_ASSERT (zmq_send (h, "1.0", 3, ZMQ_SNDMORE) == 3);
        TEST_ASSERT (zmq_send (h, reqid, strlen (reqid), ZMQ_SNDMORE) == (int) strlen (reqid));
        TEST_ASSERT (zmq_send (h, status, 3, ZMQ_SNDMORE) == 3);
        TEST_ASSERT (zmq_send (h, "text", 4, ZMQ_SNDMORE) == 4);
        TEST_ASSERT (zmq_send (h, user, strlen (user), ZMQ_SNDMORE) == (int) strlen (user));
        TEST_ASSERT (zmq_send (h, meta, ok ? sizeof meta - 1 : 0, 0) == (ok ? (int) sizeof meta - 1 : 0));
    }
    zmq_close (h);
    return NULL;
}

static pthread_t zap_thread;
static void *zap_stopper;

static void zap_start (void *ctx)
{
    void *h = new_socket (ctx, ZMQ_ROUTER);
    set_int (h, ZMQ_LINGER, 0);
    TEST_OK (zmq_bind (h, "inproc://zeromq.zap.01"));
    zap_stopper = new_socket (ctx, ZMQ_DEALER);
    set_int (zap_stopper, ZMQ_LINGER, 0);
    TEST_OK (zmq_setsockopt (zap_stopper, ZMQ_ROUTING_ID, "STOP", 4));
    TEST_OK (zmq_connect (zap_stopper, "inproc://zeromq.zap.01"));
    TEST_ASSERT (pthread_create (&zap_thread, NULL, zap_handler, h) == 0);
}

static void zap_stop (void)
{
    /* Any message from the routing id "STOP" ends the handler.  */
    TEST_ASSERT (zmq_send (zap_stopper, "", 0, 0) == 0);
    TEST_ASSERT (pthread_join (zap_thread, NULL) == 0);
    zmq_close (zap_stopper);
}

static void set_str (void *s, int opt, const char *v)
{
    TEST_OK (zmq_setsockopt (s, opt, v, strlen (v)));
}

enum mech { M_NULL, M_PLAIN, M_CURVE };

/*  Configures `s` as server or client of a mechanism. For clients: `user`/`pass` (PLAIN) or
    the server key to expect (CURVE).  */
static void secure (void *s, enum mech m, int server, const char *a, const char *b)
{
    if (m == M_PLAIN) {
        if (server)
            set_int (s, ZMQ_PLAIN_SERVER, 1);
        else {
            set_str (s, ZMQ_PLAIN_USERNAME, a);
            set_str (s, ZMQ_PLAIN_PASSWORD, b);
        }
    } else if (m == M_CURVE) {
        if (server) {
            set_int (s, ZMQ_CURVE_SERVER, 1);
            set_str (s, ZMQ_CURVE_SECRETKEY, server_secret);
        } else {
            set_str (s, ZMQ_CURVE_SERVERKEY, a);
            if (b && strcmp (b, "unknown") == 0) {
                /* A valid key pair the handler does not know.  */
                char pub[41], sec[41];
                TEST_OK (zmq_curve_keypair (pub, sec));
                set_str (s, ZMQ_CURVE_PUBLICKEY, pub);
                set_str (s, ZMQ_CURVE_SECRETKEY, sec);
            } else {
                set_str (s, ZMQ_CURVE_PUBLICKEY, client_public);
                set_str (s, ZMQ_CURVE_SECRETKEY, client_secret);
            }
        }
    }
}

/*  A DEALER client talks to a ROUTER server over `transport`: expects the handshake to
    succeed (messages flow both ways, `user_id` if not NULL on the server's messages) or to
    fail with `server_event` (value `server_value`) on the server's monitor.  */
static void exchange (void *ctx, const char *transport, enum mech sm, enum mech cm,
                      const char *domain, const char *ca, const char *cb, const char *user_id,
                      int server_event, int server_value)
{
    fprintf (stderr, "%s: server mech %d, client mech %d, domain %s, %s/%s: expect 0x%x\n",
             transport, sm, cm, domain ? domain : "-", ca ? ca : "-", cb ? cb : "-", server_event);
    void *server = new_socket (ctx, ZMQ_ROUTER);
    void *client = new_socket (ctx, ZMQ_DEALER);
    set_int (server, ZMQ_LINGER, 0);
    set_int (client, ZMQ_LINGER, 0);
    secure (server, sm, 1, NULL, NULL);
    secure (client, cm, 0, ca, cb);
    if (domain)
        set_str (server, ZMQ_ZAP_DOMAIN, domain);
    static int n;
    char monep[64];
    snprintf (monep, sizeof monep, "inproc://sec-mon-%d", n++);
    void *mon = monitor_open (ctx, server, monep, ZMQ_EVENT_ALL);
    char ep[256];
    bind_at (server, transport, ep, sizeof ep);
    TEST_OK (zmq_connect (client, ep));
    if (!server_event) {
        expect_event_skip (mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_LISTENING,
                           5000, NULL, 0);
        /* Multipart, large and empty parts, both ways.  */
        static char big[100000];
        memset (big, 'x', sizeof big);
        TEST_ASSERT (zmq_send (client, "hello", 5, ZMQ_SNDMORE) == 5);
        TEST_ASSERT (zmq_send (client, "", 0, ZMQ_SNDMORE) == 0);
        TEST_ASSERT (zmq_send (client, big, sizeof big, 0) == (int) sizeof big);
        set_int (server, ZMQ_RCVTIMEO, 5000);
        set_int (client, ZMQ_RCVTIMEO, 5000);
        zmq_msg_t id, m;
        zmq_msg_init (&id);
        TEST_ASSERT (zmq_msg_recv (&id, server, 0) > 0);
        zmq_msg_init (&m);
        TEST_ASSERT (zmq_msg_recv (&m, server, 0) == 5);
        TEST_ASSERT (memcmp (zmq_msg_data (&m), "hello", 5) == 0);
        if (user_id) {
            const char *u = zmq_msg_gets (&m, "User-Id");
            TEST_ASSERT (u && strcmp (u, user_id) == 0);
            const char *hello = zmq_msg_gets (&m, "Hello");
            TEST_ASSERT (hello && strcmp (hello, "World") == 0);
        }
        TEST_ASSERT (zmq_msg_more (&m));
        TEST_ASSERT (zmq_msg_recv (&m, server, 0) == 0 && zmq_msg_more (&m));
        TEST_ASSERT (zmq_msg_recv (&m, server, 0) == (int) sizeof big && !zmq_msg_more (&m));
        TEST_ASSERT (memcmp (zmq_msg_data (&m), big, sizeof big) == 0);
        TEST_ASSERT (zmq_msg_send (&id, server, ZMQ_SNDMORE) > 0);
        TEST_ASSERT (zmq_send (server, "world", 5, 0) == 5);
        zmq_msg_close (&m);
        char buf[16];
        TEST_ASSERT (zmq_recv (client, buf, sizeof buf, 0) == 5);
        TEST_ASSERT (memcmp (buf, "world", 5) == 0);
    } else {
        uint32_t v = expect_event_skip (mon, server_event,
                                        ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_LISTENING
                                          | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED
                                          | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                                          | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                                          | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH,
                                        5000, NULL, 0);
        if (server_value != -1 && (int) v != server_value) {
            fprintf (stderr, "event 0x%x: value %u, expected %d\n", server_event, v, server_value);
            TEST_ASSERT (0);
        }
        /* Nothing gets through.  */
        zmq_send (client, "x", 1, ZMQ_DONTWAIT);
        recv_nothing (server, 100);
    }
    /* Stop the monitor before closing its reader: libzmq's I/O thread blocks sending
       events to a monitor socket nobody reads.  */
    TEST_OK (zmq_socket_monitor (server, NULL, 0));
    zmq_close (mon);
    zmq_close (client);
    zmq_close (server);
}

static void run_all (void *ctx, const char *tr)
{
    /* PLAIN through ZAP: allowed (User-Id, metadata), wrong password, temporary failure.  */
    exchange (ctx, tr, M_PLAIN, M_PLAIN, NULL, "admin", "password", "admin", 0, 0);
    exchange (ctx, tr, M_PLAIN, M_PLAIN, NULL, "admin", "wrong", NULL,
              ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400);
    exchange (ctx, tr, M_PLAIN, M_PLAIN, NULL, "later", "x", NULL, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH,
              300);
    /* CURVE: the client's key allowed, another refused, a wrong server key never gets a
       WELCOME it can open (the server sees the client give up).  */
    exchange (ctx, tr, M_CURVE, M_CURVE, NULL, server_public, NULL, "curve-client", 0, 0);
    exchange (ctx, tr, M_CURVE, M_CURVE, NULL, server_public, "unknown", NULL,
              ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400);
    exchange (ctx, tr, M_CURVE, M_CURVE, NULL, client_public, NULL, NULL,
              ZMQ_EVENT_DISCONNECTED, -1);
    /* NULL with a ZAP domain asks ZAP too.  */
    exchange (ctx, tr, M_NULL, M_NULL, "global", NULL, NULL, "anonymous", 0, 0);
    exchange (ctx, tr, M_NULL, M_NULL, "deny", NULL, NULL, NULL, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH,
              400);
    exchange (ctx, tr, M_NULL, M_NULL, "fail", NULL, NULL, NULL, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH,
              500);
    /* Mechanism mismatches.  */
    exchange (ctx, tr, M_CURVE, M_NULL, NULL, NULL, NULL, NULL,
              ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
    exchange (ctx, tr, M_PLAIN, M_CURVE, NULL, server_public, NULL, NULL,
              ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
}

static void test_with_handler (void)
{
    void *ctx = zmq_ctx_new ();
    zap_start (ctx);
    run_all (ctx, "tcp://127.0.0.1:*");
    run_all (ctx, "ipc://*");
    TEST_ASSERT (zap_requests > 0);
    zap_stop ();
    zmq_ctx_term (ctx);
}

/*  No handler bound: PLAIN refuses (NO_DETAIL, EFAULT); CURVE allows (encryption without
    authentication); NULL with a domain allows; with ZMQ_ZAP_ENFORCE_DOMAIN both refuse.  */
static void test_without_handler (void)
{
    void *ctx = zmq_ctx_new ();
    const char *tr = "tcp://127.0.0.1:*";
    exchange (ctx, tr, M_PLAIN, M_PLAIN, NULL, "admin", "password", NULL,
              ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, EFAULT);
    exchange (ctx, tr, M_CURVE, M_CURVE, NULL, server_public, NULL, NULL, 0, 0);
    exchange (ctx, tr, M_NULL, M_NULL, "global", NULL, NULL, NULL, 0, 0);
    zmq_ctx_term (ctx);
}

int main (void)
{
    net_setup ();
    alarm (150);
    test_with_handler ();
    test_without_handler ();
    return 0;
}
