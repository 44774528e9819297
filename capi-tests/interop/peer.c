/*  One end of a ZeroMQ exchange, for the interop suite (tests/interop.rs).

    Built twice from this source: against Debian's libzmq (the peer, which proves from
    /proc/self/maps that it runs on /usr/lib/x86_64-linux-gnu/libzmq.so.5) and, with
    -DINTEROP_FERROZMQ, against ferrozmq (testutil's test_setup proves that one). Every role
    runs on either library, so each library is tested at each end of each pattern.

    usage: peer version
           peer ROLE bind|connect ENDPOINT [key=value ...]
    roles: client  REQ/DEALER/PAIR: round trips of a payload set, replies checked byte for byte
           echo    REP/ROUTER/DEALER/PAIR: sends every message back until stdin closes
           pub     PUB/XPUB: publishes "A n", "B n", "C n" every millisecond until stdin closes
           sub     SUB/XSUB: subscribes to A and C, later unsubscribes from A
           push    sends `count` numbered messages, `more N` per stdin line, until stdin closes
           pull    receives `count` numbered messages, each checked byte for byte
    stdout carries events for the harness, one per line: "endpoint E" (a binder), "mark N",
    "dropping", "sent N", "done", "ok ...", and with watch=1 "disconnected" whenever the
    socket monitor reports ZMQ_EVENT_DISCONNECTED (from a thread of its own). Diagnostics go to stderr. The exit status is 0 only
    when every check passed; every wait is bounded and alarm() ends the process at 20 s.  */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
/*  The kernel's tcp_info: glibc's lacks tcpi_bytes_received.  */
#include <linux/tcp.h>

#define UNSET INT_MIN
#define MAX_PARTS 64

static struct {
    const char *role, *mode;
    char endpoint[256];
    int type;
    const char *payload, *routing_id, *expect;
    int delim, count, start, size, mark, hold, drop, resend, idle;
    int hb_ivl, hb_ttl, hb_timeout, reconnect_ivl, relaxed, correlate, mandatory, watch;
} o = {.payload = "basic",
       .size = UNSET,
       .hb_ivl = UNSET,
       .hb_ttl = UNSET,
       .hb_timeout = UNSET,
       .reconnect_ivl = UNSET};

static void *ctx, *sock;
static pthread_t watcher;

static void print_role (FILE *out)
{
    fputs (o.role ? o.role : "?", out);
}

/*  One event line for the harness, flushed at once: it waits on these.  */
static void say (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    /*  One whole line at a time: the watcher thread says things too.  */
    flockfile (stdout);
    vprintf (fmt, ap);
    va_end (ap);
    putchar ('\n');
    fflush (stdout);
    funlockfile (stdout);
}

static void sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000};
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
        ;
}

/*  ---- stdin: commands from the harness; its EOF means "stop" ----  */

static char inbuf[512];
static size_t inlen;
static int in_eof;

/*  Waits up to `ms` (-1: until alarm) for a line on stdin. 1: a line is in `line`;
    0: timeout; -1: stdin is closed.  */
static int read_line (char *line, size_t cap, int ms)
{
    int64_t deadline = ms < 0 ? -1 : now_ms () + ms;
    for (;;) {
        char *nl = memchr (inbuf, '\n', inlen);
        if (nl) {
            size_t n = (size_t) (nl - inbuf);
            size_t k = n < cap - 1 ? n : cap - 1;
            memcpy (line, inbuf, k);
            line[k] = 0;
            inlen -= n + 1;
            memmove (inbuf, nl + 1, inlen);
            return 1;
        }
        if (in_eof)
            return -1;
        if (inlen == sizeof inbuf)
            fail ("stdin line too long");
        int wait = deadline < 0 ? -1 : (int) (deadline - now_ms ());
        if (deadline >= 0 && wait < 0)
            wait = 0;
        struct pollfd p = {0, POLLIN, 0};
        int rc = poll (&p, 1, wait);
        if (rc == -1 && errno == EINTR)
            continue;
        CHECK (rc >= 0);
        if (rc == 0)
            return 0;
        ssize_t r = read (0, inbuf + inlen, sizeof inbuf - inlen);
        if (r <= 0)
            in_eof = 1;
        else
            inlen += (size_t) r;
    }
}

static int stdin_closed (void)
{
    char line[128];
    int rc;
    while ((rc = read_line (line, sizeof line, 0)) == 1)
        ;
    return rc == -1;
}

static void wait_stdin_closed (void)
{
    char line[128];
    while (read_line (line, sizeof line, -1) != -1)
        ;
}

/*  ---- arguments and the socket ----  */

static int to_int (const char *key, const char *v)
{
    char *end;
    long n = strtol (v, &end, 10);
    if (*v == 0 || *end != 0)
        fail ("%s=%s is not a number", key, v);
    return (int) n;
}

static int socket_type (const char *name)
{
    static const struct {
        const char *name;
        int type;
    } types[] = {{"pair", ZMQ_PAIR},     {"pub", ZMQ_PUB},       {"sub", ZMQ_SUB},
                 {"req", ZMQ_REQ},       {"rep", ZMQ_REP},       {"dealer", ZMQ_DEALER},
                 {"router", ZMQ_ROUTER}, {"pull", ZMQ_PULL},     {"push", ZMQ_PUSH},
                 {"xpub", ZMQ_XPUB},     {"xsub", ZMQ_XSUB}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp (types[i].name, name) == 0)
            return types[i].type;
    fail ("unknown socket type %s", name);
    return -1;
}

static void parse (int argc, char **argv)
{
    if (argc < 4)
        fail ("usage: peer ROLE bind|connect ENDPOINT [key=value ...]");
    o.role = argv[1];
    o.mode = argv[2];
    if (strcmp (o.mode, "bind") != 0 && strcmp (o.mode, "connect") != 0)
        fail ("mode must be bind or connect, not %s", o.mode);
    snprintf (o.endpoint, sizeof o.endpoint, "%s", argv[3]);
    o.type = strcmp (o.role, "push") == 0 ? ZMQ_PUSH : strcmp (o.role, "pull") == 0 ? ZMQ_PULL : -1;
    for (int i = 4; i < argc; i++) {
        char *eq = strchr (argv[i], '=');
        if (!eq)
            fail ("argument %s is not key=value", argv[i]);
        *eq = 0;
        const char *k = argv[i], *v = eq + 1;
        if (!strcmp (k, "type")) o.type = socket_type (v);
        else if (!strcmp (k, "payload")) o.payload = v;
        else if (!strcmp (k, "routing_id")) o.routing_id = v;
        else if (!strcmp (k, "expect")) o.expect = v;
        else if (!strcmp (k, "delim")) o.delim = to_int (k, v);
        else if (!strcmp (k, "count")) o.count = to_int (k, v);
        else if (!strcmp (k, "start")) o.start = to_int (k, v);
        else if (!strcmp (k, "size")) o.size = to_int (k, v);
        else if (!strcmp (k, "mark")) o.mark = to_int (k, v);
        else if (!strcmp (k, "hold")) o.hold = to_int (k, v);
        else if (!strcmp (k, "drop")) o.drop = to_int (k, v);
        else if (!strcmp (k, "resend")) o.resend = to_int (k, v);
        else if (!strcmp (k, "idle")) o.idle = to_int (k, v);
        else if (!strcmp (k, "hb_ivl")) o.hb_ivl = to_int (k, v);
        else if (!strcmp (k, "hb_ttl")) o.hb_ttl = to_int (k, v);
        else if (!strcmp (k, "hb_timeout")) o.hb_timeout = to_int (k, v);
        else if (!strcmp (k, "reconnect_ivl")) o.reconnect_ivl = to_int (k, v);
        else if (!strcmp (k, "relaxed")) o.relaxed = to_int (k, v);
        else if (!strcmp (k, "correlate")) o.correlate = to_int (k, v);
        else if (!strcmp (k, "mandatory")) o.mandatory = to_int (k, v);
        else if (!strcmp (k, "watch")) o.watch = to_int (k, v);
        else fail ("unknown option %s", k);
    }
    if (o.type < 0)
        fail ("role %s needs type=", o.role);
}

static void set_int (int option, int value)
{
    if (zmq_setsockopt (sock, option, &value, sizeof value) != 0)
        fail ("setsockopt %d = %d: %s", option, value, zmq_strerror (zmq_errno ()));
}

/*  watch=1: reads the socket's monitor and says "disconnected" for each lost connection, so
    the harness waits for that event instead of guessing how long it takes. Ends at
    ZMQ_EVENT_MONITOR_STOPPED.  */
static void *watch (void *mon)
{
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, mon, 0) == -1)
            fail ("monitor recv: %s", zmq_strerror (zmq_errno ()));
        CHECK (zmq_msg_size (&m) == 6 && zmq_msg_more (&m));
        uint16_t event;
        memcpy (&event, zmq_msg_data (&m), 2);
        CHECK (zmq_msg_recv (&m, mon, 0) >= 0 && !zmq_msg_more (&m));
        zmq_msg_close (&m);
        if (event == ZMQ_EVENT_DISCONNECTED)
            say ("disconnected");
        else if (event == ZMQ_EVENT_MONITOR_STOPPED)
            break;
    }
    CHECK (zmq_close (mon) == 0);
    return NULL;
}

static void start_watch (void)
{
    const char *ep = "inproc://peer-watch";
    CHECK (zmq_socket_monitor (sock, ep, ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_MONITOR_STOPPED) == 0);
    void *mon = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (mon != NULL);
    /*  Connected here, before the socket can have events: none is lost.  */
    CHECK (zmq_connect (mon, ep) == 0);
    CHECK (pthread_create (&watcher, NULL, watch, mon) == 0);
}

/*  Stops the monitor (its last event is MONITOR_STOPPED) and waits for the watcher.  */
static void stop_watch (void)
{
    CHECK (zmq_socket_monitor (sock, NULL, 0) == 0);
    CHECK (pthread_join (watcher, NULL) == 0);
}

static void open_socket (void)
{
    ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    sock = zmq_socket (ctx, o.type);
    CHECK (sock != NULL);
    /*  Bounded: a lost peer fails a receive in 5 s, and close never waits long.  */
    set_int (ZMQ_RCVTIMEO, 5000);
    set_int (ZMQ_SNDTIMEO, 5000);
    /*  Publications nobody waits for would hold close for the whole linger period.  */
    set_int (ZMQ_LINGER, o.type == ZMQ_PUB || o.type == ZMQ_XPUB ? 0 : 2000);
    if (o.hb_ivl != UNSET) set_int (ZMQ_HEARTBEAT_IVL, o.hb_ivl);
    if (o.hb_ttl != UNSET) set_int (ZMQ_HEARTBEAT_TTL, o.hb_ttl);
    if (o.hb_timeout != UNSET) set_int (ZMQ_HEARTBEAT_TIMEOUT, o.hb_timeout);
    if (o.reconnect_ivl != UNSET) set_int (ZMQ_RECONNECT_IVL, o.reconnect_ivl);
    if (o.relaxed) set_int (ZMQ_REQ_RELAXED, 1);
    if (o.correlate) set_int (ZMQ_REQ_CORRELATE, 1);
    if (o.mandatory) set_int (ZMQ_ROUTER_MANDATORY, 1);
    if (o.routing_id)
        CHECK (zmq_setsockopt (sock, ZMQ_ROUTING_ID, o.routing_id, strlen (o.routing_id)) == 0);
    if (o.watch)
        start_watch ();
    if (strcmp (o.mode, "bind") == 0) {
        if (zmq_bind (sock, o.endpoint) != 0)
            fail ("bind %s: %s", o.endpoint, zmq_strerror (zmq_errno ()));
        size_t len = sizeof o.endpoint;
        CHECK (zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, o.endpoint, &len) == 0);
        say ("endpoint %s", o.endpoint);
    } else if (zmq_connect (sock, o.endpoint) != 0)
        fail ("connect %s: %s", o.endpoint, zmq_strerror (zmq_errno ()));
}

/*  ---- message contents: deterministic, so both ends know what to expect ----  */

static void fill (unsigned char *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        p[i] = (unsigned char) (x >> 24);
    }
}

static uint32_t fnv1a (uint32_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

typedef struct {
    int n;
    size_t len[MAX_PARTS];
    unsigned char *data[MAX_PARTS];
} message_t;

static message_t make (int n, const size_t *lens, uint32_t seed)
{
    message_t m = {.n = n};
    for (int i = 0; i < n; i++) {
        m.len[i] = lens[i];
        m.data[i] = malloc (lens[i] ? lens[i] : 1);
        CHECK (m.data[i] != NULL);
        fill (m.data[i], lens[i], seed * 64 + (uint32_t) i);
    }
    return m;
}

/*  The client's payload sets. `shapes` covers empty messages and parts, multipart, ZMTP's
    short/long frame boundary (255/256 bytes) and a body larger than one I/O batch.  */
static int payload (message_t *out)
{
    const size_t MiB16 = 16u << 20;
    int n = 0;
    if (!strcmp (o.payload, "one")) {
        out[n++] = make (1, (size_t[]){8}, 1);
    } else if (!strcmp (o.payload, "basic")) {
        for (int i = 0; i < 10; i++)
            out[n++] = make (1, (size_t[]){8}, (uint32_t) i + 1);
    } else if (!strcmp (o.payload, "shapes")) {
        out[n++] = make (1, (size_t[]){5}, 1);
        out[n++] = make (1, (size_t[]){0}, 2);
        out[n++] = make (3, (size_t[]){1, 0, 3}, 3);
        out[n++] = make (3, (size_t[]){0, 0, 0}, 4);
        out[n++] = make (1, (size_t[]){255}, 5);
        out[n++] = make (1, (size_t[]){256}, 6);
        out[n++] = make (3, (size_t[]){255, 256, 257}, 7);
        size_t twenty[20];
        for (int i = 0; i < 20; i++)
            twenty[i] = (size_t) i * 13;
        out[n++] = make (20, twenty, 8);
        out[n++] = make (1, (size_t[]){70000}, 9);
    } else if (!strcmp (o.payload, "large")) {
        out[n++] = make (1, (size_t[]){MiB16}, 1);
        out[n++] = make (2, (size_t[]){4, MiB16 + 1}, 2);
    } else
        fail ("unknown payload %s", o.payload);
    return n;
}

static void free_message (message_t *m)
{
    for (int i = 0; i < m->n; i++)
        free (m->data[i]);
}

/*  ---- roles ----  */

static void send_message (const message_t *m)
{
    /*  A DEALER talking to REP writes the envelope REQ would have written.  */
    if (o.delim)
        CHECK (zmq_send (sock, "", 0, ZMQ_SNDMORE) == 0);
    for (int i = 0; i < m->n; i++) {
        int rc = zmq_send (sock, m->data[i], m->len[i], i + 1 < m->n ? ZMQ_SNDMORE : 0);
        if (rc != (int) m->len[i])
            fail ("send of part %d (%zu bytes): %s", i, m->len[i], zmq_strerror (zmq_errno ()));
    }
}

static void expect_message (const message_t *m, const char *what)
{
    zmq_msg_t part;
    if (o.delim) {
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, sock, 0) == -1)
            fail ("%s: no reply: %s", what, zmq_strerror (zmq_errno ()));
        if (zmq_msg_size (&part) != 0 || !zmq_msg_more (&part))
            fail ("%s: reply lacks the empty delimiter", what);
        zmq_msg_close (&part);
    }
    for (int i = 0;; i++) {
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, sock, 0) == -1)
            fail ("%s: reply part %d not received: %s", what, i, zmq_strerror (zmq_errno ()));
        size_t len = zmq_msg_size (&part);
        int more = zmq_msg_more (&part);
        if (i >= m->n)
            fail ("%s: reply has more than the %d parts sent", what, m->n);
        if (len != m->len[i])
            fail ("%s: reply part %d has %zu bytes, sent %zu", what, i, len, m->len[i]);
        const unsigned char *got = zmq_msg_data (&part);
        for (size_t b = 0; b < len; b++)
            if (got[b] != m->data[i][b])
                fail ("%s: reply part %d (%zu bytes) differs at byte %zu", what, i, len, b);
        zmq_msg_close (&part);
        if (!more) {
            if (i + 1 != m->n)
                fail ("%s: reply has %d parts, sent %d", what, i + 1, m->n);
            return;
        }
    }
}

static void round_trip (const message_t *m, const char *what)
{
    send_message (m);
    expect_message (m, what);
}

/*  Payload bytes received on this process's TCP connection to the endpoint's port; -1 when
    not on tcp. Heartbeats are the only traffic on an idle link, so this shows they flow.  */
static long tcp_bytes_in (void)
{
    int port;
    if (sscanf (o.endpoint, "tcp://127.0.0.1:%d", &port) != 1)
        return -1;
    int binder = strcmp (o.mode, "bind") == 0;
    for (int fd = 3; fd < 1024; fd++) {
        int type;
        socklen_t tl = sizeof type;
        if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM)
            continue;
        struct sockaddr_in me, peer;
        socklen_t ml = sizeof me, pl = sizeof peer;
        if (getsockname (fd, (struct sockaddr *) &me, &ml) != 0 || me.sin_family != AF_INET)
            continue;
        if (getpeername (fd, (struct sockaddr *) &peer, &pl) != 0)
            continue; /* the listener */
        if (ntohs (binder ? me.sin_port : peer.sin_port) != port)
            continue;
        struct tcp_info ti;
        socklen_t il = sizeof ti;
        CHECK (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &ti, &il) == 0);
        return (long) ti.tcpi_bytes_received;
    }
    fail ("no TCP connection on port %d among this process's descriptors: the link is down", port);
    return -1;
}

static void client (void)
{
    message_t msgs[16];
    int n = payload (msgs);
    char what[64];
    for (int i = 0; i < n; i++) {
        snprintf (what, sizeof what, "%s message %d", o.payload, i);
        round_trip (&msgs[i], what);
    }
    if (o.idle) {
        /*  Several heartbeat intervals of silence; a dropped link is not re-established
            (the scenario sets reconnect_ivl=-1), so the next round trip proves it held.  */
        long before = tcp_bytes_in ();
        sleep_ms (o.idle);
        long after = tcp_bytes_in ();
        /*  At least five 7-byte PING or PONG commands.  */
        if (before >= 0 && after - before < 35)
            fail ("%ld bytes arrived during %d ms of idle: heartbeats are not flowing",
                  after - before, o.idle);
        if (before >= 0)
            say ("idle_bytes %ld", after - before);
        message_t after_idle = make (1, (size_t[]){16}, 500);
        round_trip (&after_idle, "round trip after idle");
        free_message (&after_idle);
    }
    if (o.resend) {
        /*  The request the server drops; the harness kills that server, then says resend.  */
        message_t r2 = make (1, (size_t[]){8}, 1002), r2b = make (1, (size_t[]){8}, 1003),
                  r3 = make (1, (size_t[]){8}, 1004);
        send_message (&r2);
        say ("sent r2");
        char line[64];
        int rc = read_line (line, sizeof line, 15000);
        if (rc != 1 || strcmp (line, "resend") != 0)
            fail ("expected 'resend' on stdin, got %s", rc == 1 ? line : rc ? "EOF" : "nothing");
        round_trip (&r2b, "resent request");
        round_trip (&r3, "request after reconnect");
        free_message (&r2);
        free_message (&r2b);
        free_message (&r3);
    }
    for (int i = 0; i < n; i++)
        free_message (&msgs[i]);
    say ("ok %d round trips", n + (o.idle ? 1 : 0) + (o.resend ? 2 : 0));
    if (o.hold) {
        say ("done");
        wait_stdin_closed ();
    }
}

static void echo (void)
{
    int served = 0, dropped = 0;
    zmq_msg_t parts[MAX_PARTS];
    while (!stdin_closed ()) {
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll (&item, 1, 20);
        if (rc == -1 && zmq_errno () == EINTR)
            continue;
        CHECK (rc >= 0);
        if (!(item.revents & ZMQ_POLLIN))
            continue;
        int n = 0, more = 1;
        while (more) {
            if (n == MAX_PARTS)
                fail ("message of more than %d parts", MAX_PARTS);
            zmq_msg_init (&parts[n]);
            if (zmq_msg_recv (&parts[n], sock, 0) == -1)
                fail ("recv part %d: %s", n, zmq_strerror (zmq_errno ()));
            more = zmq_msg_more (&parts[n]);
            n++;
        }
        if (o.drop && served == o.drop && !dropped) {
            /*  Left unanswered: the client must resend after this process is killed.  */
            dropped = 1;
            for (int i = 0; i < n; i++)
                zmq_msg_close (&parts[i]);
            say ("dropping");
            continue;
        }
        for (int i = 0; i < n; i++)
            if (zmq_msg_send (&parts[i], sock, i + 1 < n ? ZMQ_SNDMORE : 0) == -1)
                fail ("echo of part %d of %d: %s", i, n, zmq_strerror (zmq_errno ()));
        served++;
    }
    if (served == 0)
        fail ("no request arrived");
    say ("ok echoed %d", served);
}

/*  XPUB's subscription events so far, as "+A,-A,": checked against expect= at the end.  */
static char subs[256];

static void drain_subscriptions (void)
{
    unsigned char buf[64];
    int n;
    while ((n = zmq_recv (sock, buf, sizeof buf, ZMQ_DONTWAIT)) >= 0) {
        if (n != 2 || buf[0] > 1)
            fail ("XPUB received %d bytes that are not a one-letter (un)subscription", n);
        if (strlen (subs) + 4 >= sizeof subs)
            fail ("too many subscription events: %s", subs);
        char ev[4] = {buf[0] ? '+' : '-', (char) buf[1], ',', 0};
        strcat (subs, ev);
    }
    CHECK (zmq_errno () == EAGAIN);
}

/*  Removes topic t from the set `live`; 0 if it was not there.  */
static int take (char *live, char t)
{
    char *p = strchr (live, t);
    if (!p)
        return 0;
    memmove (p, p + 1, strlen (p));
    return 1;
}

/*  subs must begin with expect; after it, only unsubscriptions of topics still subscribed
    may follow (libzmq's XPUB sends those when the subscriber disconnects).  */
static void check_subscriptions (void)
{
    char want[256], live[32] = "";
    snprintf (want, sizeof want, "%s,", o.expect);
    if (strncmp (subs, want, strlen (want)) != 0)
        fail ("XPUB saw subscription events %s expected %s", subs, want);
    for (const char *p = want; *p; p += 3) {
        if (p[0] == '+')
            strncat (live, &p[1], 1);
        else
            take (live, p[1]);
    }
    for (const char *p = subs + strlen (want); *p; p += 3)
        if (p[0] != '-' || !take (live, p[1]))
            fail ("XPUB saw subscription events %s: unexpected %.2s after %s", subs, p, want);
}

static void publish (void)
{
    int xpub = o.type == ZMQ_XPUB, rounds = 0;
    char buf[32];
    while (!stdin_closed ()) {
        for (const char *t = "ABC"; *t; t++) {
            int len = snprintf (buf, sizeof buf, "%c %d", *t, rounds);
            int rc = zmq_send (sock, buf, (size_t) len, ZMQ_DONTWAIT);
            CHECK (rc == len || zmq_errno () == EAGAIN);
        }
        rounds++;
        if (xpub)
            drain_subscriptions ();
        sleep_ms (1);
    }
    if (xpub) {
        drain_subscriptions ();
        if (o.expect)
            check_subscriptions ();
    }
    say ("ok published %d rounds%s%s", rounds, xpub ? ", subscription events " : "", subs);
}

static void subscribe (int on, char topic)
{
    if (o.type == ZMQ_SUB)
        CHECK (zmq_setsockopt (sock, on ? ZMQ_SUBSCRIBE : ZMQ_UNSUBSCRIBE, &topic, 1) == 0);
    else {
        char m[2] = {(char) on, topic};
        CHECK (zmq_send (sock, m, 2, 0) == 2);
    }
}

static char next_topic (void)
{
    char buf[32];
    int n = zmq_recv (sock, buf, sizeof buf - 1, 0);
    if (n == -1)
        fail ("no publication within 5 s: %s", zmq_strerror (zmq_errno ()));
    buf[n < (int) sizeof buf - 1 ? n : (int) sizeof buf - 1] = 0;
    int num;
    char t;
    if (sscanf (buf, "%c %d", &t, &num) != 2 || !strchr ("ABC", t))
        fail ("received '%s', not a publication", buf);
    if (t == 'B')
        fail ("received '%s' though B was never subscribed", buf);
    return t;
}

static void sub (void)
{
    subscribe (1, 'A');
    subscribe (1, 'C');
    int a = 0, c = 0;
    while (a < 5 || c < 5) {
        if (next_topic () == 'A')
            a++;
        else
            c++;
    }
    subscribe (0, 'A');
    /*  Publications already on their way may still carry A; once 30 in a row do not,
        the unsubscription has taken effect and A must never come back.  */
    int64_t deadline = now_ms () + 5000;
    int run = 0, total = 0;
    while (run < 30) {
        run = next_topic () == 'A' ? 0 : run + 1;
        total++;
        if (now_ms () > deadline)
            fail ("A still delivered %d publications after unsubscribing", total);
    }
    for (int i = 0; i < 30; i++)
        if (next_topic () == 'A')
            fail ("A delivered again after the unsubscription had taken effect");
    say ("ok A and C received; A stopped within %d publications of unsubscribing", total - 30);
}

/*  Message number `seq` of a PUSH stream: every hundredth is empty, the others carry their
    number and 4..1003 bytes, or exactly size= bytes.  */
static size_t numbered (int seq, unsigned char *buf)
{
    size_t len = o.size != UNSET ? (size_t) o.size
                 : seq % 100 == 0 ? 0
                                  : 4 + (size_t) ((seq * 7919) % 1000);
    if (len >= 4) {
        memcpy (buf, &seq, 4);
        fill (buf + 4, len - 4, (uint32_t) seq);
    }
    return len;
}

static unsigned char *numbered_buffer (void)
{
    unsigned char *buf = malloc (o.size != UNSET && o.size > 1004 ? (size_t) o.size : 1004);
    CHECK (buf != NULL);
    return buf;
}

static void push (void)
{
    unsigned char *buf = numbered_buffer ();
    uint32_t sum = 2166136261u;
    int seq = o.start, k;
    char line[64];
    for (int todo = o.count;;) {
        for (; todo > 0; todo--, seq++) {
            size_t len = numbered (seq, buf);
            if (zmq_send (sock, buf, len, 0) != (int) len)
                fail ("send of message %d: %s", seq, zmq_strerror (zmq_errno ()));
            sum = fnv1a (sum, buf, len);
        }
        say ("sent %d", seq - o.start);
        int rc = read_line (line, sizeof line, -1);
        if (rc == -1)
            break;
        if (sscanf (line, "more %d", &k) != 1)
            fail ("unknown command '%s'", line);
        todo = k;
    }
    free (buf);
    say ("ok pushed %d checksum %08x", seq - o.start, sum);
}

static void pull (void)
{
    unsigned char *want = numbered_buffer ();
    uint32_t sum = 2166136261u;
    zmq_msg_t msg;
    for (int i = 0; i < o.count; i++) {
        int seq = o.start + i;
        size_t len = numbered (seq, want);
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, sock, 0) == -1)
            fail ("message %d (%d of %d) not received: %s", seq, i + 1, o.count,
                  zmq_strerror (zmq_errno ()));
        size_t got = zmq_msg_size (&msg);
        const unsigned char *data = zmq_msg_data (&msg);
        int got_seq = -1;
        if (got >= 4)
            memcpy (&got_seq, data, 4);
        if (got != len || memcmp (data, want, len) != 0)
            fail ("expected message %d (%zu bytes), got %zu bytes numbered %d", seq, len, got,
                  got_seq);
        sum = fnv1a (sum, data, got);
        zmq_msg_close (&msg);
        if (o.mark && i + 1 == o.mark)
            say ("mark %d", o.mark);
    }
    free (want);
    say ("ok pulled %d checksum %08x", o.count, sum);
    if (o.hold) {
        say ("done");
        wait_stdin_closed ();
    }
}

int main (int argc, char **argv)
{
    char lib[PATH_MAX];
    check_library (lib);
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    if (argc == 2 && strcmp (argv[1], "version") == 0) {
        say ("%s side: zmq_version %d.%d.%d, %s", side, major, minor, patch, lib);
        return 0;
    }
    parse (argc, argv);
    open_socket ();
    if (!strcmp (o.role, "client")) client ();
    else if (!strcmp (o.role, "echo")) echo ();
    else if (!strcmp (o.role, "pub")) publish ();
    else if (!strcmp (o.role, "sub")) sub ();
    else if (!strcmp (o.role, "push")) push ();
    else if (!strcmp (o.role, "pull")) pull ();
    else fail ("unknown role %s", o.role);
    if (o.watch)
        stop_watch ();
    CHECK (zmq_close (sock) == 0);
    CHECK (zmq_ctx_term (ctx) == 0);
    return 0;
}
