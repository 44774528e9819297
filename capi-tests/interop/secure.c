/*  One end of a secured ZeroMQ link, for the security interop suite
    (tests/interop_security.rs).

    Built twice from this source, like peer.c: against Debian's libzmq (proven from
    /proc/self/maps to be /usr/lib/x86_64-linux-gnu/libzmq.so.5) and, with -DINTEROP_FERROZMQ,
    against ferrozmq (testutil's test_setup proves that one).

    usage: secure version
           secure server MECH bind ENDPOINT [key=value ...]
           secure client MECH connect ENDPOINT [key=value ...]
    MECH:  null | plain | curve
    server: a ROUTER with the mechanism's server options, and its own ZAP handler thread at
            inproc://zeromq.zap.01 (unless zap=0) with a fixed policy:
              PLAIN  admin/password -> 200 User-Id "admin", anything else -> 400
              CURVE  the client key below -> 200 User-Id "curve-client", others -> 400
              NULL   domain "deny" -> 400, others -> 200 User-Id "anonymous"
            every 200 carries the metadata property Hello=World. It prints "endpoint E",
            echoes one request (expect=ok) or sees none (expect=fail), and serves until its
            stdin closes.
    client: a DEALER that sends one request and expects it echoed byte for byte (expect=ok),
            or expects no reply within 300 ms of its handshake-failure event (expect=fail).
    keys:  expect=ok|fail           default ok
           event=NAME[:VALUE]       an event the monitor must show (printed form, below),
                                    or one of several as A|B; default HANDSHAKE_SUCCEEDED
                                    with expect=ok
           domain=D                 server: ZMQ_ZAP_DOMAIN
           zap=0|1                  server: run the ZAP handler (default 1)
           user_id=U                server: the User-Id the request must carry
           user=U pass=P            PLAIN client credentials (default admin/password)
           serverkey=good|wrong     CURVE client: the server key it expects (default good)
           clientkey=good|unknown   CURVE client: its own key pair (default good)
           payload=one|multipart|large   the request (default one)
    stdout carries lines for the harness: "endpoint E", "zap ..." (one per ZAP request:
    version, domain, address, identity as hex, mechanism, credentials), "meta K=V ..." (the
    properties of the first message received), "event NAME[:VALUE]" (every monitor event, in
    order), "ok ...". Events whose value is a descriptor or an interval print only their name;
    handshake failures print their value (PROTOCOL: the ZMQ_PROTOCOL_ERROR_ name without its
    prefix; AUTH: the ZAP status code; NO_DETAIL: the errno). Diagnostics go to stderr. The exit
    status is 0 only when every check passed; every wait is bounded and alarm() ends the process
    at 20 s.  */
#include "common.h"

#define MAX_PARTS 8
#define MAX_EVENTS 512
/*  How long a refused request must stay unanswered.  */
#define SILENCE_MS 300

/*  libzmq's documented example key pairs (zmq_curve.adoc).  */
static const char *client_public = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
static const char *client_secret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
static const char *server_public = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
static const char *server_secret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

static struct {
    const char *role, *mech, *mode, *endpoint;
    int expect_ok, zap;
    const char *event, *domain, *user_id, *user, *pass, *serverkey, *clientkey, *payload;
} o = {.expect_ok = 1,
       .zap = 1,
       .user = "admin",
       .pass = "password",
       .serverkey = "good",
       .clientkey = "good",
       .payload = "one"};

static void *ctx, *sock, *mon;

static void print_role (FILE *out)
{
    fprintf (out, "%s %s", o.role ? o.role : "?", o.mech ? o.mech : "?");
}

/*  One line for the harness, written whole: the ZAP thread prints too.  */
static void say (const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (line, sizeof line - 1, fmt, ap);
    va_end (ap);
    strcat (line, "\n");
    fputs (line, stdout);
    fflush (stdout);
}

/*  1 once stdin has reached EOF (the harness's "stop"); never blocks.  */
static int stdin_closed (void)
{
    char buf[256];
    for (;;) {
        struct pollfd p = {0, POLLIN, 0};
        int rc = poll (&p, 1, 0);
        if (rc == -1 && errno == EINTR)
            continue;
        CHECK (rc >= 0);
        if (rc == 0)
            return 0;
        ssize_t n = read (0, buf, sizeof buf);
        if (n <= 0)
            return 1;
    }
}

/*  ---- options ----  */

static void set_int (void *s, int option, int value)
{
    if (zmq_setsockopt (s, option, &value, sizeof value) != 0)
        fail ("setsockopt %d = %d: %s", option, value, zmq_strerror (zmq_errno ()));
}

static void set_str (void *s, int option, const char *value)
{
    if (zmq_setsockopt (s, option, value, strlen (value)) != 0)
        fail ("setsockopt %d = '%s': %s", option, value, zmq_strerror (zmq_errno ()));
}

static void parse (int argc, char **argv)
{
    if (argc < 5)
        fail ("usage: secure server|client MECH bind|connect ENDPOINT [key=value ...]");
    o.role = argv[1];
    o.mech = argv[2];
    o.mode = argv[3];
    o.endpoint = argv[4];
    if (strcmp (o.role, "server") != 0 && strcmp (o.role, "client") != 0)
        fail ("role must be server or client, not %s", o.role);
    if (strcmp (o.mech, "null") != 0 && strcmp (o.mech, "plain") != 0
        && strcmp (o.mech, "curve") != 0)
        fail ("mechanism must be null, plain or curve, not %s", o.mech);
    if (strcmp (o.mode, "bind") != 0 && strcmp (o.mode, "connect") != 0)
        fail ("mode must be bind or connect, not %s", o.mode);
    for (int i = 5; i < argc; i++) {
        char *eq = strchr (argv[i], '=');
        if (!eq)
            fail ("argument %s is not key=value", argv[i]);
        *eq = 0;
        const char *k = argv[i], *v = eq + 1;
        if (!strcmp (k, "expect")) {
            if (strcmp (v, "ok") != 0 && strcmp (v, "fail") != 0)
                fail ("expect=%s: ok or fail", v);
            o.expect_ok = strcmp (v, "ok") == 0;
        }
        else if (!strcmp (k, "event")) o.event = v;
        else if (!strcmp (k, "domain")) o.domain = v;
        else if (!strcmp (k, "zap")) o.zap = atoi (v);
        else if (!strcmp (k, "user_id")) o.user_id = v;
        else if (!strcmp (k, "user")) o.user = v;
        else if (!strcmp (k, "pass")) o.pass = v;
        else if (!strcmp (k, "serverkey")) o.serverkey = v;
        else if (!strcmp (k, "clientkey")) o.clientkey = v;
        else if (!strcmp (k, "payload")) o.payload = v;
        else fail ("unknown option %s", k);
    }
    if (!o.event && o.expect_ok)
        o.event = "HANDSHAKE_SUCCEEDED";
    if (!o.event)
        fail ("expect=fail needs event=");
}

/*  The mechanism's options, as the role's side of the link.  */
static void secure_socket (void)
{
    int server = strcmp (o.role, "server") == 0;
    if (!strcmp (o.mech, "plain")) {
        if (server)
            set_int (sock, ZMQ_PLAIN_SERVER, 1);
        else {
            set_str (sock, ZMQ_PLAIN_USERNAME, o.user);
            set_str (sock, ZMQ_PLAIN_PASSWORD, o.pass);
        }
    } else if (!strcmp (o.mech, "curve")) {
        if (server) {
            set_int (sock, ZMQ_CURVE_SERVER, 1);
            set_str (sock, ZMQ_CURVE_SECRETKEY, server_secret);
        } else {
            char pub[41], sec[41];
            if (!strcmp (o.serverkey, "good"))
                set_str (sock, ZMQ_CURVE_SERVERKEY, server_public);
            else if (!strcmp (o.serverkey, "wrong")) {
                /*  A real public key, but not the server's.  */
                CHECK (zmq_curve_keypair (pub, sec) == 0);
                set_str (sock, ZMQ_CURVE_SERVERKEY, pub);
            } else
                fail ("serverkey=%s: good or wrong", o.serverkey);
            if (!strcmp (o.clientkey, "good")) {
                set_str (sock, ZMQ_CURVE_PUBLICKEY, client_public);
                set_str (sock, ZMQ_CURVE_SECRETKEY, client_secret);
            } else if (!strcmp (o.clientkey, "unknown")) {
                /*  A valid key pair the ZAP handler does not know.  */
                CHECK (zmq_curve_keypair (pub, sec) == 0);
                set_str (sock, ZMQ_CURVE_PUBLICKEY, pub);
                set_str (sock, ZMQ_CURVE_SECRETKEY, sec);
            } else
                fail ("clientkey=%s: good or unknown", o.clientkey);
        }
    }
    if (server && o.domain)
        set_str (sock, ZMQ_ZAP_DOMAIN, o.domain);
}

/*  ---- the ZAP handler ----  */

static pthread_t zap_thread;
static void *zap_stopper;

static int zap_frame (void *h, char *buf, size_t cap)
{
    int n = zmq_recv (h, buf, cap - 1, 0);
    CHECK (n >= 0 && n < (int) cap);
    buf[n] = 0;
    return n;
}

static int more (void *s)
{
    int v;
    size_t len = sizeof v;
    CHECK (zmq_getsockopt (s, ZMQ_RCVMORE, &v, &len) == 0);
    return v;
}

static void hex (char *out, const char *p, int n)
{
    for (int i = 0; i < n; i++)
        sprintf (out + 2 * i, "%02x", (unsigned char) p[i]);
    out[2 * n] = 0;
}

static void send_part (void *h, const void *p, size_t n, int flags)
{
    CHECK (zmq_send (h, p, n, flags) == (int) n);
}

static void *zap_handler (void *arg)
{
    void *h = arg;
    for (;;) {
        char id[256], delim[8], version[16], reqid[64], domain[256], address[256],
          identity[256], mech[32], cred[2][256] = {"", ""};
        int idlen = zmq_recv (h, id, sizeof id, 0);
        CHECK (idlen >= 0);
        CHECK (more (h));
        if (idlen == 4 && memcmp (id, "STOP", 4) == 0) {
            zap_frame (h, delim, sizeof delim);
            break;
        }
        CHECK (zap_frame (h, delim, sizeof delim) == 0);
        zap_frame (h, version, sizeof version);
        zap_frame (h, reqid, sizeof reqid);
        zap_frame (h, domain, sizeof domain);
        zap_frame (h, address, sizeof address);
        int idn = zap_frame (h, identity, sizeof identity);
        zap_frame (h, mech, sizeof mech);
        int ncred = 0, credlen[2] = {0, 0};
        while (more (h)) {
            CHECK (ncred < 2);
            credlen[ncred] = zap_frame (h, cred[ncred], sizeof cred[ncred]);
            ncred++;
        }
        char idhex[513], creds[520] = "";
        hex (idhex, identity, idn);
        const char *status = "400", *user = "";
        if (!strcmp (mech, "PLAIN")) {
            CHECK (ncred == 2);
            snprintf (creds, sizeof creds, "%s/%s", cred[0], cred[1]);
            if (!strcmp (cred[0], "admin") && !strcmp (cred[1], "password"))
                status = "200", user = "admin";
        } else if (!strcmp (mech, "CURVE")) {
            CHECK (ncred == 1 && credlen[0] == 32);
            char text[41];
            CHECK (zmq_z85_encode (text, (uint8_t *) cred[0], 32) != NULL);
            int known = !strcmp (text, client_public);
            /*  An unknown key is fresh each run: print what it is, not its bytes.  */
            snprintf (creds, sizeof creds, "%s", known ? text : "(unknown key)");
            if (known)
                status = "200", user = "curve-client";
        } else {
            CHECK (!strcmp (mech, "NULL") && ncred == 0);
            if (strcmp (domain, "deny") != 0)
                status = "200", user = "anonymous";
        }
        say ("zap %s domain=%s address=%s identity=%s mechanism=%s credentials=%s -> %s",
             version, domain, address, idhex, mech, creds, status);
        /*  Hello=World in ZMTP property format.  */
        const char meta[] = "\x05Hello\x00\x00\x00\x05World";
        int ok = !strcmp (status, "200");
        send_part (h, id, (size_t) idlen, ZMQ_SNDMORE);
        send_part (h, "", 0, ZMQ_SNDMORE);
        send_part (h, "1.0", 3, ZMQ_SNDMORE);
        send_part (h, reqid, strlen (reqid), ZMQ_SNDMORE);
        send_part (h, status, 3, ZMQ_SNDMORE);
        send_part (h, "text", 4, ZMQ_SNDMORE);
        send_part (h, user, strlen (user), ZMQ_SNDMORE);
        send_part (h, meta, ok ? sizeof meta - 1 : 0, 0);
    }
    CHECK (zmq_close (h) == 0);
    return NULL;
}

static void zap_start (void)
{
    void *h = zmq_socket (ctx, ZMQ_ROUTER);
    CHECK (h != NULL);
    set_int (h, ZMQ_LINGER, 0);
    CHECK (zmq_bind (h, "inproc://zeromq.zap.01") == 0);
    /*  Its routing id "STOP" ends the handler.  */
    zap_stopper = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (zap_stopper != NULL);
    set_int (zap_stopper, ZMQ_LINGER, 0);
    CHECK (zmq_setsockopt (zap_stopper, ZMQ_ROUTING_ID, "STOP", 4) == 0);
    CHECK (zmq_connect (zap_stopper, "inproc://zeromq.zap.01") == 0);
    CHECK (pthread_create (&zap_thread, NULL, zap_handler, h) == 0);
}

static void zap_stop (void)
{
    CHECK (zmq_send (zap_stopper, "", 0, 0) == 0);
    CHECK (pthread_join (zap_thread, NULL) == 0);
    CHECK (zmq_close (zap_stopper) == 0);
}

/*  ---- monitor events ----  */

static char events[MAX_EVENTS][64];
static int nevents;

static const char *event_name (int ev)
{
    switch (ev) {
        case ZMQ_EVENT_CONNECTED: return "CONNECTED";
        case ZMQ_EVENT_CONNECT_DELAYED: return "CONNECT_DELAYED";
        case ZMQ_EVENT_CONNECT_RETRIED: return "CONNECT_RETRIED";
        case ZMQ_EVENT_LISTENING: return "LISTENING";
        case ZMQ_EVENT_BIND_FAILED: return "BIND_FAILED";
        case ZMQ_EVENT_ACCEPTED: return "ACCEPTED";
        case ZMQ_EVENT_ACCEPT_FAILED: return "ACCEPT_FAILED";
        case ZMQ_EVENT_CLOSED: return "CLOSED";
        case ZMQ_EVENT_CLOSE_FAILED: return "CLOSE_FAILED";
        case ZMQ_EVENT_DISCONNECTED: return "DISCONNECTED";
        case ZMQ_EVENT_MONITOR_STOPPED: return "MONITOR_STOPPED";
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: return "HANDSHAKE_FAILED_NO_DETAIL";
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: return "HANDSHAKE_SUCCEEDED";
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: return "HANDSHAKE_FAILED_PROTOCOL";
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: return "HANDSHAKE_FAILED_AUTH";
        default: return NULL;
    }
}

static const char *protocol_error_name (uint32_t v)
{
    switch (v) {
        case ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED: return "ZMTP_UNSPECIFIED";
        case ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND: return "ZMTP_UNEXPECTED_COMMAND";
        case ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE: return "ZMTP_INVALID_SEQUENCE";
        case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE: return "ZMTP_KEY_EXCHANGE";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED:
            return "ZMTP_MALFORMED_COMMAND_UNSPECIFIED";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE:
            return "ZMTP_MALFORMED_COMMAND_MESSAGE";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO: return "ZMTP_MALFORMED_COMMAND_HELLO";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE:
            return "ZMTP_MALFORMED_COMMAND_INITIATE";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR: return "ZMTP_MALFORMED_COMMAND_ERROR";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY: return "ZMTP_MALFORMED_COMMAND_READY";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME:
            return "ZMTP_MALFORMED_COMMAND_WELCOME";
        case ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA: return "ZMTP_INVALID_METADATA";
        case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC: return "ZMTP_CRYPTOGRAPHIC";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: return "ZMTP_MECHANISM_MISMATCH";
        case ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED: return "ZAP_UNSPECIFIED";
        case ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY: return "ZAP_MALFORMED_REPLY";
        case ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID: return "ZAP_BAD_REQUEST_ID";
        case ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION: return "ZAP_BAD_VERSION";
        case ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE: return "ZAP_INVALID_STATUS_CODE";
        case ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA: return "ZAP_INVALID_METADATA";
        default: return NULL;
    }
}

/*  An event in its printed form: see the comment at the top.  */
static void format_event (char *out, size_t cap, int ev, uint32_t value)
{
    const char *name = event_name (ev);
    if (!name)
        snprintf (out, cap, "0x%x:%u", ev, value);
    else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
        const char *p = protocol_error_name (value);
        if (p)
            snprintf (out, cap, "%s:%s", name, p);
        else
            snprintf (out, cap, "%s:0x%x", name, value);
    } else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        snprintf (out, cap, "%s:%u", name, value);
    else
        snprintf (out, cap, "%s", name);
}

static void monitor_start (void)
{
    char ep[64];
    snprintf (ep, sizeof ep, "inproc://secure-monitor-%d", (int) getpid ());
    CHECK (zmq_socket_monitor (sock, ep, ZMQ_EVENT_ALL) == 0);
    mon = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (mon != NULL);
    set_int (mon, ZMQ_LINGER, 0);
    CHECK (zmq_connect (mon, ep) == 0);
}

/*  An event in printed form against a wanted one: exactly, or by name when the wanted one
    has no value; `want` may list alternatives, as A|B.  */
static int matches (const char *text, const char *want)
{
    for (;;) {
        size_t n = strcspn (want, "|");
        const char *colon = memchr (want, ':', n);
        if (colon ? strlen (text) == n && !strncmp (text, want, n)
                  : !strncmp (text, want, n) && (text[n] == 0 || text[n] == ':'))
            return 1;
        if (!want[n])
            return 0;
        want += n + 1;
    }
}

/*  Reads events for up to `ms` (0: only those already queued), recording each; returns 1
    as soon as one matches `want`, 0 otherwise.  */
static int pump_events (int ms, const char *want)
{
    int64_t deadline = now_ms () + ms;
    for (;;) {
        int64_t left = deadline - now_ms ();
        zmq_pollitem_t item = {mon, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll (&item, 1, left > 0 ? (long) left : 0);
        if (rc == -1 && zmq_errno () == EINTR)
            continue;
        CHECK (rc >= 0);
        if (rc == 0)
            return 0;
        zmq_msg_t m;
        zmq_msg_init (&m);
        CHECK (zmq_msg_recv (&m, mon, 0) == 6 && zmq_msg_more (&m));
        uint16_t ev;
        uint32_t value;
        memcpy (&ev, zmq_msg_data (&m), 2);
        memcpy (&value, (char *) zmq_msg_data (&m) + 2, 4);
        CHECK (zmq_msg_recv (&m, mon, 0) >= 0 && !zmq_msg_more (&m));
        zmq_msg_close (&m);
        char text[64];
        format_event (text, sizeof text, ev, value);
        if (nevents < MAX_EVENTS)
            snprintf (events[nevents++], sizeof events[0], "%s", text);
        if (want && matches (text, want))
            return 1;
    }
}

/*  Waits for `want` unless an event recorded earlier already matches it.  */
static void expect_event (const char *want, int ms)
{
    for (int i = 0; i < nevents; i++)
        if (matches (events[i], want))
            return;
    if (!pump_events (ms, want)) {
        for (int i = 0; i < nevents; i++)
            fprintf (stderr, "  seen: %s\n", events[i]);
        fail ("no %s event within %d ms", want, ms);
    }
}

/*  Prints every event seen, then stops the monitor: libzmq's I/O thread would block
    sending events to a monitor socket nobody reads.  */
static void monitor_stop (void)
{
    pump_events (0, NULL);
    for (int i = 0; i < nevents; i++)
        say ("event %s", events[i]);
    CHECK (zmq_socket_monitor (sock, NULL, 0) == 0);
    CHECK (zmq_close (mon) == 0);
}

/*  ---- messages ----  */

typedef struct {
    int n;
    size_t len[MAX_PARTS];
} shape_t;

static shape_t payload_shape (void)
{
    if (!strcmp (o.payload, "one"))
        return (shape_t){1, {8}};
    /*  Empty parts and ZMTP's 255/256-byte short/long frame boundary.  */
    if (!strcmp (o.payload, "multipart"))
        return (shape_t){5, {5, 0, 255, 256, 1000}};
    /*  Boxed frames over 64 KiB, one of them over 1 MiB, after small ones.  */
    if (!strcmp (o.payload, "large"))
        return (shape_t){4, {5, 0, 65537, 1048583}};
    fail ("unknown payload %s", o.payload);
    return (shape_t){0, {0}};
}

static void fill (unsigned char *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        p[i] = (unsigned char) (x >> 24);
    }
}

/*  The properties of a received message, as one "meta" line.  */
static void print_meta (zmq_msg_t *m)
{
    static const char *keys[] = {"Socket-Type", "User-Id", "Hello", "Peer-Address"};
    char line[512] = "meta";
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = zmq_msg_gets (m, keys[i]);
        size_t at = strlen (line);
        snprintf (line + at, sizeof line - at, " %s=%s", keys[i], v ? v : "(none)");
    }
    say ("%s", line);
}

static void check_meta (zmq_msg_t *m, const char *key, const char *want)
{
    const char *v = zmq_msg_gets (m, key);
    if (!v || strcmp (v, want) != 0)
        fail ("property %s is %s, expected %s", key, v ? v : "absent", want);
}

/*  ---- roles ----  */

static void open_socket (void)
{
    int server = !strcmp (o.role, "server");
    ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    if (server && o.zap)
        zap_start ();
    sock = zmq_socket (ctx, server ? ZMQ_ROUTER : ZMQ_DEALER);
    CHECK (sock != NULL);
    set_int (sock, ZMQ_RCVTIMEO, 5000);
    set_int (sock, ZMQ_SNDTIMEO, 5000);
    set_int (sock, ZMQ_LINGER, 2000);
    secure_socket ();
    monitor_start ();
    if (!strcmp (o.mode, "bind")) {
        if (zmq_bind (sock, o.endpoint) != 0)
            fail ("bind %s: %s", o.endpoint, zmq_strerror (zmq_errno ()));
        char ep[256];
        size_t len = sizeof ep;
        CHECK (zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, ep, &len) == 0);
        say ("endpoint %s", ep);
    } else if (zmq_connect (sock, o.endpoint) != 0)
        fail ("connect %s: %s", o.endpoint, zmq_strerror (zmq_errno ()));
}

/*  Waits up to `ms` for a message on the socket, pumping events meanwhile; 1 if one came.  */
static int wait_message (int ms, int until_stdin_closes)
{
    int64_t deadline = now_ms () + ms;
    for (;;) {
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll (&item, 1, 10);
        if (rc == -1 && zmq_errno () == EINTR)
            continue;
        CHECK (rc >= 0);
        pump_events (0, NULL);
        if (item.revents & ZMQ_POLLIN)
            return 1;
        if (until_stdin_closes ? stdin_closed () : now_ms () > deadline)
            return 0;
    }
}

static void server (void)
{
    int served = 0;
    if (o.expect_ok) {
        if (!wait_message (10000, 0))
            fail ("no request within 10 s");
        zmq_msg_t parts[MAX_PARTS + 1];
        int n = 0, more_parts = 1;
        while (more_parts) {
            if (n == MAX_PARTS + 1)
                fail ("request of more than %d parts", MAX_PARTS);
            zmq_msg_init (&parts[n]);
            CHECK (zmq_msg_recv (&parts[n], sock, 0) >= 0);
            more_parts = zmq_msg_more (&parts[n]);
            n++;
        }
        CHECK (n >= 2);
        /*  parts[0] is the routing id ROUTER adds; the body's properties come from the
            connection: the ZAP handler's User-Id and metadata, the peer's socket type.  */
        print_meta (&parts[1]);
        check_meta (&parts[1], "Socket-Type", "DEALER");
        if (o.user_id) {
            check_meta (&parts[1], "User-Id", o.user_id);
            check_meta (&parts[1], "Hello", "World");
        }
        for (int i = 0; i < n; i++)
            CHECK (zmq_msg_send (&parts[i], sock, i + 1 < n ? ZMQ_SNDMORE : 0) >= 0);
        served = 1;
        expect_event (o.event, 5000);
        /*  The client closes first: keep serving (events) until the harness says stop.  */
        while (wait_message (0, 1)) {
            zmq_msg_t extra;
            zmq_msg_init (&extra);
            CHECK (zmq_msg_recv (&extra, sock, 0) >= 0);
            fail ("a second message arrived (%zu bytes)", zmq_msg_size (&extra));
        }
    } else {
        expect_event (o.event, 10000);
        /*  A refused client's request must never arrive, however often it retries.  */
        if (wait_message (0, 1))
            fail ("a message arrived from a client whose handshake failed");
    }
    monitor_stop ();
    say ("ok %s server, %s", o.mech, served ? "one request echoed" : "nothing received");
}

static void client (void)
{
    shape_t shape = payload_shape ();
    unsigned char *data[MAX_PARTS];
    for (int i = 0; i < shape.n; i++) {
        data[i] = malloc (shape.len[i] ? shape.len[i] : 1);
        CHECK (data[i] != NULL);
        fill (data[i], shape.len[i], (uint32_t) i + 1);
    }
    if (o.expect_ok) {
        for (int i = 0; i < shape.n; i++) {
            int rc = zmq_send (sock, data[i], shape.len[i], i + 1 < shape.n ? ZMQ_SNDMORE : 0);
            if (rc != (int) shape.len[i])
                fail ("send of part %d (%zu bytes): %s", i, shape.len[i],
                      zmq_strerror (zmq_errno ()));
        }
        if (!wait_message (10000, 0))
            fail ("no reply within 10 s");
        for (int i = 0;; i++) {
            zmq_msg_t part;
            zmq_msg_init (&part);
            CHECK (zmq_msg_recv (&part, sock, 0) >= 0);
            if (i == 0) {
                print_meta (&part);
                check_meta (&part, "Socket-Type", "ROUTER");
            }
            size_t len = zmq_msg_size (&part);
            if (i >= shape.n)
                fail ("reply has more than the %d parts sent", shape.n);
            if (len != shape.len[i] || memcmp (zmq_msg_data (&part), data[i], len) != 0)
                fail ("reply part %d (%zu bytes) differs from the %zu bytes sent", i, len,
                      shape.len[i]);
            int last = !zmq_msg_more (&part);
            zmq_msg_close (&part);
            if (last) {
                if (i + 1 != shape.n)
                    fail ("reply has %d parts, sent %d", i + 1, shape.n);
                break;
            }
        }
        expect_event (o.event, 5000);
    } else {
        /*  Queued for a connection that never completes its handshake: DONTWAIT, as a DEALER
            without a ready peer may refuse it.  */
        int rc = zmq_send (sock, data[0], shape.len[0], ZMQ_DONTWAIT);
        CHECK (rc == (int) shape.len[0] || zmq_errno () == EAGAIN);
        expect_event (o.event, 10000);
        if (wait_message (SILENCE_MS, 0))
            fail ("a reply arrived though the handshake failed");
    }
    for (int i = 0; i < shape.n; i++)
        free (data[i]);
    monitor_stop ();
    say ("ok %s client, %s", o.mech, o.expect_ok ? "reply checked" : "no reply");
}

int main (int argc, char **argv)
{
    char lib[PATH_MAX];
    check_library (lib);
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    if (argc == 2 && strcmp (argv[1], "version") == 0) {
        say ("%s side: zmq_version %d.%d.%d, curve %d, %s", side, major, minor, patch,
             zmq_has ("curve"), lib);
        return zmq_has ("curve") ? 0 : 1;
    }
    parse (argc, argv);
    open_socket ();
    if (!strcmp (o.role, "server"))
        server ();
    else
        client ();
    CHECK (zmq_close (sock) == 0);
    if (!strcmp (o.role, "server") && o.zap)
        zap_stop ();
    CHECK (zmq_ctx_term (ctx) == 0);
    return 0;
}
