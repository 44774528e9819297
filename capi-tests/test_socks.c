/*  ZMQ_SOCKS_PROXY: tcp connections go through a SOCKS5 proxy (RFC 1928), with username and
    password (RFC 1929) when ZMQ_SOCKS_USERNAME is set. The test runs its own small SOCKS5
    server on 127.0.0.1 (plain sockets, a thread) that counts connections, records what the
    client sent and relays bytes to the target; it can also refuse. Checked: messages reach a
    ROUTER through the proxy; the target is sent as an IPv4 literal or a domain name as
    given; credentials are sent; a refusal (bad password, no acceptable method, CONNECT
    refused) gives no connection and the events libzmq raises (CLOSED, CONNECT_RETRIED, then
    a new attempt); ipc ignores the proxy. Checked against Debian's libzmq with
    -DLIBZMQ_REFERENCE.  */
#define ZMQ_BUILD_DRAFT_API
#include "netutil.h"
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sys/wait.h>

#define MAX_RELAYS 32

struct relay {
    int a, b;
    volatile int *stop;
};

struct proxy {
    int lfd, port;
    /*  What the proxy demands and answers.  */
    const char *user, *pass; /* username/password required when user != NULL */
    int reply_code;          /* answer to CONNECT: 0 connects and relays */
    int open;                /* set (under mu): accept any client, refuse nothing */
    /*  What it saw (under mu).  */
    pthread_mutex_t mu;
    int connections, requests, auth_attempts;
    unsigned char methods[256];
    int n_methods;
    char got_user[256], got_pass[256];
    int atyp;
    char host[256];
    int req_port;
    volatile int stop;
    pthread_t thread;
    pthread_t relays[MAX_RELAYS];
    struct relay relay_args[MAX_RELAYS];
    int n_relays;
};

/*  Reads exactly n bytes (the socket has a receive time-out): 0, or -1.  */
static int read_full (int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv (fd, (char *) buf + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t) r;
    }
    return 0;
}

static void write_all (int fd, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = send (fd, (const char *) buf + done, n - done, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        done += (size_t) w;
    }
}

static void *relay_main (void *arg)
{
    struct relay *r = arg;
    char buf[8192];
    while (!*r->stop) {
        struct pollfd p[2] = {{r->a, POLLIN, 0}, {r->b, POLLIN, 0}};
        int n = poll (p, 2, 100);
        if (n < 0)
            break;
        int done = 0;
        for (int i = 0; i < 2 && !done; i++) {
            if (!p[i].revents)
                continue;
            ssize_t got = recv (p[i].fd, buf, sizeof buf, 0);
            if (got <= 0)
                done = 1;
            else
                write_all (i == 0 ? r->b : r->a, buf, (size_t) got);
        }
        if (done)
            break;
    }
    close (r->a);
    close (r->b);
    return NULL;
}

/*  Connects to the target a CONNECT named; -1 if it cannot.  */
static int connect_target (int atyp, const unsigned char *addr, const char *host, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset (&ss, 0, sizeof ss);
    if (atyp == 1) {
        struct sockaddr_in *a = (struct sockaddr_in *) &ss;
        a->sin_family = AF_INET;
        memcpy (&a->sin_addr, addr, 4);
        a->sin_port = htons (port);
        len = sizeof *a;
    } else if (atyp == 4) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;
        a->sin6_family = AF_INET6;
        memcpy (&a->sin6_addr, addr, 16);
        a->sin6_port = htons (port);
        len = sizeof *a;
    } else {
        struct addrinfo hints, *res;
        memset (&hints, 0, sizeof hints);
        hints.ai_family = AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo (host, NULL, &hints, &res) != 0)
            return -1;
        memcpy (&ss, res->ai_addr, res->ai_addrlen);
        len = res->ai_addrlen;
        freeaddrinfo (res);
        ((struct sockaddr_in *) &ss)->sin_port = htons (port);
    }
    int fd = socket (ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect (fd, (struct sockaddr *) &ss, len) != 0) {
        close (fd);
        return -1;
    }
    return fd;
}

/*  One client of the proxy, from greeting to relay (or refusal).  */
static void serve (struct proxy *px, int c)
{
    struct timeval tv = {2, 0};
    setsockopt (c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    unsigned char h[2], methods[256];
    if (read_full (c, h, 2) || h[0] != 5 || read_full (c, methods, h[1]))
        goto drop;
    pthread_mutex_lock (&px->mu);
    memcpy (px->methods, methods, h[1]);
    px->n_methods = h[1];
    pthread_mutex_unlock (&px->mu);
    pthread_mutex_lock (&px->mu);
    int open = px->open;
    pthread_mutex_unlock (&px->mu);
    int want = px->user && !open ? 2 : 0;
    if (open && memchr (methods, 2, h[1]))
        want = 2;
    int offered = memchr (methods, want, h[1]) != NULL;
    unsigned char choice[2] = {5, offered ? (unsigned char) want : 0xff};
    write_all (c, choice, 2);
    if (!offered)
        goto drop;
    if (want == 2) {
        unsigned char v, ulen, plen;
        char user[256] = {0}, pass[256] = {0};
        if (read_full (c, &v, 1) || v != 1 || read_full (c, &ulen, 1)
            || read_full (c, user, ulen) || read_full (c, &plen, 1)
            || read_full (c, pass, plen))
            goto drop;
        pthread_mutex_lock (&px->mu);
        px->auth_attempts++;
        strcpy (px->got_user, user);
        strcpy (px->got_pass, pass);
        pthread_mutex_unlock (&px->mu);
        int ok = open || (strcmp (user, px->user) == 0 && strcmp (pass, px->pass) == 0);
        unsigned char status[2] = {1, ok ? 0 : 1};
        write_all (c, status, 2);
        if (!ok)
            goto drop;
    }
    unsigned char req[4], addr[256], port[2];
    char host[256] = {0};
    if (read_full (c, req, 4) || req[0] != 5 || req[1] != 1 || req[2] != 0)
        goto drop;
    if (req[3] == 1) {
        if (read_full (c, addr, 4))
            goto drop;
        inet_ntop (AF_INET, addr, host, sizeof host);
    } else if (req[3] == 4) {
        if (read_full (c, addr, 16))
            goto drop;
        inet_ntop (AF_INET6, addr, host, sizeof host);
    } else if (req[3] == 3) {
        unsigned char n;
        if (read_full (c, &n, 1) || read_full (c, host, n))
            goto drop;
    } else
        goto drop;
    if (read_full (c, port, 2))
        goto drop;
    int req_port = port[0] * 256 + port[1];
    pthread_mutex_lock (&px->mu);
    px->requests++;
    px->atyp = req[3];
    strcpy (px->host, host);
    px->req_port = req_port;
    pthread_mutex_unlock (&px->mu);
    int t = -1;
    int code = open ? 0 : px->reply_code;
    if (code == 0) {
        t = connect_target (req[3], addr, host, req_port);
        if (t < 0)
            code = 5;
    }
    unsigned char reply[10] = {5, (unsigned char) code, 0, 1, 127, 0, 0, 1, 0, 0};
    write_all (c, reply, sizeof reply);
    if (t < 0 || px->n_relays == MAX_RELAYS) {
        if (t >= 0)
            close (t);
        goto drop;
    }
    tv.tv_sec = 0;
    setsockopt (c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct relay *r = &px->relay_args[px->n_relays];
    r->a = c;
    r->b = t;
    r->stop = &px->stop;
    TEST_ASSERT (pthread_create (&px->relays[px->n_relays], NULL, relay_main, r) == 0);
    px->n_relays++;
    return;
drop:
    close (c);
}

static void *proxy_main (void *arg)
{
    struct proxy *px = arg;
    while (!px->stop) {
        struct pollfd p = {px->lfd, POLLIN, 0};
        if (poll (&p, 1, 100) <= 0)
            continue;
        int c = accept (px->lfd, NULL, NULL);
        if (c < 0)
            continue;
        pthread_mutex_lock (&px->mu);
        px->connections++;
        pthread_mutex_unlock (&px->mu);
        serve (px, c);
    }
    return NULL;
}

static void proxy_start (struct proxy *px, const char *user, const char *pass, int reply_code)
{
    memset (px, 0, sizeof *px);
    pthread_mutex_init (&px->mu, NULL);
    px->user = user;
    px->pass = pass;
    px->reply_code = reply_code;
    px->lfd = socket (AF_INET, SOCK_STREAM, 0);
    TEST_ASSERT (px->lfd >= 0);
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    TEST_ASSERT (bind (px->lfd, (struct sockaddr *) &a, sizeof a) == 0);
    TEST_ASSERT (listen (px->lfd, 16) == 0);
    socklen_t l = sizeof a;
    TEST_ASSERT (getsockname (px->lfd, (struct sockaddr *) &a, &l) == 0);
    px->port = ntohs (a.sin_port);
    TEST_ASSERT (pthread_create (&px->thread, NULL, proxy_main, px) == 0);
}

static void proxy_stop (struct proxy *px)
{
    px->stop = 1;
    TEST_ASSERT (pthread_join (px->thread, NULL) == 0);
    for (int i = 0; i < px->n_relays; i++)
        TEST_ASSERT (pthread_join (px->relays[i], NULL) == 0);
    close (px->lfd);
    pthread_mutex_destroy (&px->mu);
}

static int proxy_count (struct proxy *px, int *field)
{
    pthread_mutex_lock (&px->mu);
    int v = *field;
    pthread_mutex_unlock (&px->mu);
    return v;
}

static void set_str (void *s, int option, const char *v)
{
    TEST_OK (zmq_setsockopt (s, option, v, strlen (v)));
}

/*  A ROUTER on 127.0.0.1 and a DEALER that goes through `px`; the DEALER connects to
    `host`:port-of-the-ROUTER. Returns the DEALER's monitor.  */
static void *socks_pair (void *ctx, struct proxy *px, const char *host, void **router,
                         void **dealer, char *target, size_t len)
{
    char bound[256], proxy_addr[64];
    *router = new_socket (ctx, ZMQ_ROUTER);
    bind_at (*router, "tcp://127.0.0.1:*", bound, sizeof bound);
    *dealer = new_socket (ctx, ZMQ_DEALER);
    snprintf (proxy_addr, sizeof proxy_addr, "127.0.0.1:%d", px->port);
    set_str (*dealer, ZMQ_SOCKS_PROXY, proxy_addr);
    char got[64];
    size_t gl = sizeof got;
    TEST_OK (zmq_getsockopt (*dealer, ZMQ_SOCKS_PROXY, got, &gl));
    TEST_ASSERT (strcmp (got, proxy_addr) == 0);
    static int n;
    char mon_ep[64];
    snprintf (mon_ep, sizeof mon_ep, "inproc://socks-mon-%d", n++);
    void *mon = monitor_open (ctx, *dealer, mon_ep, ZMQ_EVENT_ALL);
    snprintf (target, len, "tcp://%s:%d", host, port_of (bound));
    return mon;
}

/*  DEALER -> ROUTER -> DEALER through the proxy.  */
static void round_trip (void *router, void *dealer)
{
    send_str (dealer, "through the proxy");
    zmq_msg_t id;
    zmq_msg_init (&id);
    set_int (router, ZMQ_RCVTIMEO, 5000);
    TEST_ASSERT (zmq_msg_recv (&id, router, 0) > 0);
    recv_str (router, "through the proxy");
    TEST_ASSERT (zmq_msg_send (&id, router, ZMQ_SNDMORE) > 0);
    send_str (router, "and back");
    recv_str (dealer, "and back");
}

/*  The events of a successful connection through the proxy: every one names the proxy.  */
static void expect_connected_via (void *mon, const char *proxy_ep)
{
    expect_event (mon, ZMQ_EVENT_CONNECT_DELAYED, proxy_ep);
    expect_event (mon, ZMQ_EVENT_CONNECTED, proxy_ep);
    expect_event (mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, proxy_ep);
}

static void test_no_auth (void *ctx)
{
    struct proxy px;
    proxy_start (&px, NULL, NULL, 0);
    char target[256], proxy_ep[64];
    snprintf (proxy_ep, sizeof proxy_ep, "tcp://127.0.0.1:%d", px.port);
    void *router, *dealer;
    void *mon = socks_pair (ctx, &px, "127.0.0.1", &router, &dealer, target, sizeof target);
    TEST_OK (zmq_connect (dealer, target));
    round_trip (router, dealer);
    expect_connected_via (mon, proxy_ep);
    /*  One connection to the proxy, which offered "no authentication" only and asked for the
        ROUTER's address as an IPv4 literal.  */
    TEST_ASSERT (proxy_count (&px, &px.connections) == 1);
    TEST_ASSERT (proxy_count (&px, &px.requests) == 1);
    pthread_mutex_lock (&px.mu);
    TEST_ASSERT (px.n_methods == 1 && px.methods[0] == 0);
    TEST_ASSERT (px.atyp == 1);
    TEST_ASSERT (strcmp (px.host, "127.0.0.1") == 0);
    TEST_ASSERT (px.req_port == port_of (target));
    TEST_ASSERT (px.auth_attempts == 0);
    pthread_mutex_unlock (&px.mu);

    /*  A host name goes to the proxy unresolved, as a domain name.  */
    void *d2 = new_socket (ctx, ZMQ_DEALER);
    char proxy_addr[64], by_name[256];
    snprintf (proxy_addr, sizeof proxy_addr, "127.0.0.1:%d", px.port);
    set_str (d2, ZMQ_SOCKS_PROXY, proxy_addr);
    snprintf (by_name, sizeof by_name, "tcp://localhost:%d", port_of (target));
    TEST_OK (zmq_connect (d2, by_name));
    round_trip (router, d2);
    TEST_ASSERT (proxy_count (&px, &px.connections) == 2);
    pthread_mutex_lock (&px.mu);
    TEST_ASSERT (px.atyp == 3);
    TEST_ASSERT (strcmp (px.host, "localhost") == 0);
    TEST_ASSERT (px.req_port == port_of (target));
    pthread_mutex_unlock (&px.mu);

    /*  ipc never goes through the proxy.  */
    void *pull = new_socket (ctx, ZMQ_PULL);
    void *push = new_socket (ctx, ZMQ_PUSH);
    set_str (push, ZMQ_SOCKS_PROXY, proxy_addr);
    char ipc_ep[128];
    snprintf (ipc_ep, sizeof ipc_ep, "ipc:///tmp/ferrozmq-socks-%d", (int) getpid ());
    TEST_OK (zmq_bind (pull, ipc_ep));
    TEST_OK (zmq_connect (push, ipc_ep));
    send_str (push, "direct");
    recv_str (pull, "direct");
    TEST_ASSERT (proxy_count (&px, &px.connections) == 2);

    zmq_close (pull);
    zmq_close (push);
    zmq_close (d2);
    zmq_close (mon);
    zmq_close (dealer);
    zmq_close (router);
    proxy_stop (&px);
}

static void test_username_password (void *ctx)
{
    struct proxy px;
    proxy_start (&px, "alice", "s3cret", 0);
    char target[256], proxy_ep[64];
    snprintf (proxy_ep, sizeof proxy_ep, "tcp://127.0.0.1:%d", px.port);
    void *router, *dealer;
    void *mon = socks_pair (ctx, &px, "127.0.0.1", &router, &dealer, target, sizeof target);
    set_str (dealer, ZMQ_SOCKS_USERNAME, "alice");
    set_str (dealer, ZMQ_SOCKS_PASSWORD, "s3cret");
    TEST_OK (zmq_connect (dealer, target));
    round_trip (router, dealer);
    expect_connected_via (mon, proxy_ep);
    pthread_mutex_lock (&px.mu);
    TEST_ASSERT (px.n_methods == 1 && px.methods[0] == 2);
    TEST_ASSERT (px.auth_attempts == 1);
    TEST_ASSERT (strcmp (px.got_user, "alice") == 0);
    TEST_ASSERT (strcmp (px.got_pass, "s3cret") == 0);
    TEST_ASSERT (px.requests == 1);
    pthread_mutex_unlock (&px.mu);
    zmq_close (mon);
    zmq_close (dealer);
    zmq_close (router);
    proxy_stop (&px);
}

/*  The proxy refuses (`user`/`pass` set on the DEALER, `reply_code` for CONNECT): each
    attempt ends in CLOSED and CONNECT_RETRIED and a new attempt follows; the ROUTER never
    hears of a connection and queued messages stay queued.  */
static void refused (void *ctx, const char *user, const char *pass, int reply_code,
                     int want_requests)
{
    struct proxy px;
    proxy_start (&px, "alice", "s3cret", reply_code);
    if (reply_code)
        px.user = NULL; /* only the CONNECT is refused */
    char target[256], proxy_ep[64];
    snprintf (proxy_ep, sizeof proxy_ep, "tcp://127.0.0.1:%d", px.port);
    void *router, *dealer;
    void *mon = socks_pair (ctx, &px, "127.0.0.1", &router, &dealer, target, sizeof target);
    static int n;
    char rmon_ep[64];
    snprintf (rmon_ep, sizeof rmon_ep, "inproc://socks-router-mon-%d", n++);
    void *rmon = monitor_open (ctx, router, rmon_ep, ZMQ_EVENT_ALL);
    if (user)
        set_str (dealer, ZMQ_SOCKS_USERNAME, user);
    if (pass)
        set_str (dealer, ZMQ_SOCKS_PASSWORD, pass);
    TEST_OK (zmq_connect (dealer, target));
    send_str (dealer, "queued");
    for (int attempt = 0; attempt < 2; attempt++) {
        expect_event (mon, ZMQ_EVENT_CONNECT_DELAYED, proxy_ep);
        uint32_t fd = expect_event (mon, ZMQ_EVENT_CLOSED, proxy_ep);
        TEST_ASSERT (fd > 2);
        uint32_t ivl = expect_event (mon, ZMQ_EVENT_CONNECT_RETRIED, proxy_ep);
        TEST_ASSERT (ivl >= 100 && ivl < 200);
    }
    TEST_ASSERT (proxy_count (&px, &px.connections) >= 2);
    TEST_ASSERT (proxy_count (&px, &px.requests) >= want_requests);
    if (user) {
        pthread_mutex_lock (&px.mu);
        TEST_ASSERT (strcmp (px.got_user, user) == 0);
        TEST_ASSERT (strcmp (px.got_pass, pass ? pass : "") == 0);
        pthread_mutex_unlock (&px.mu);
    }
    recv_nothing (router, 100);
    /*  The ROUTER (monitored since before the connect) never accepted anything.  */
    expect_no_event (rmon, 100);

    /*  Once the proxy lets it through, the next attempt connects and the queued message
        arrives. (Closing the DEALER right after a refusal would also crash libzmq 4.3.4,
        whose socks connecter removes its descriptor from the poller twice then.)  */
    pthread_mutex_lock (&px.mu);
    px.open = 1;
    pthread_mutex_unlock (&px.mu);
    expect_event_skip (mon, ZMQ_EVENT_CONNECTED,
                       ZMQ_EVENT_CLOSED | ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_CONNECT_DELAYED,
                       5000, NULL, 0);
    expect_event (mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, proxy_ep);
    zmq_msg_t id;
    zmq_msg_init (&id);
    set_int (router, ZMQ_RCVTIMEO, 5000);
    TEST_ASSERT (zmq_msg_recv (&id, router, 0) > 0);
    zmq_msg_close (&id);
    recv_str (router, "queued");
    zmq_close (rmon);
    zmq_close (mon);
    zmq_close (dealer);
    zmq_close (router);
    proxy_stop (&px);
}

/*  Each case runs in a child process with its own context: with libzmq 4.3.4 a socks
    connection refused earlier can leave the I/O thread unable to start the next one, or
    crash zmq_ctx_term (EBADF in its poller), and that must not hide what the next case
    checks.  */
static void run_case (int which)
{
    pid_t pid = fork ();
    TEST_ASSERT (pid >= 0);
    if (pid == 0) {
        void *ctx = zmq_ctx_new ();
        TEST_ASSERT (ctx);
        switch (which) {
            case 0:
                test_no_auth (ctx);
                break;
            case 1:
                test_username_password (ctx);
                break;
            case 2:
                /*  Wrong password: RFC 1929 status 1.  */
                refused (ctx, "alice", "wrong", 0, 0);
                break;
            case 3:
                /*  No credentials for a proxy that wants them: no acceptable method.  */
                refused (ctx, NULL, NULL, 0, 0);
                break;
            case 4:
                /*  Username without password: an empty password is sent.  */
                refused (ctx, "alice", NULL, 0, 0);
                break;
            case 5:
                /*  CONNECT refused by the proxy (reply 5, "connection refused").  */
                refused (ctx, NULL, NULL, 5, 2);
                break;
        }
        TEST_OK (zmq_ctx_term (ctx));
        _exit (0);
    }
    int status;
    TEST_ASSERT (waitpid (pid, &status, 0) == pid);
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        fprintf (stderr, "case %d failed (status 0x%x)\n", which, status);
        TEST_ASSERT (0);
    }
}

int main (void)
{
    net_setup ();
    for (int which = 0; which < 6; which++)
        run_case (which);
    return 0;
}
