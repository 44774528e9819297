/*  The draft zmq_poller_* API, zmq_ppoll and zmq_ctx_set_ext / zmq_ctx_get_ext.  */
#define ZMQ_BUILD_DRAFT_API
#include "testutil.h"
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

static long now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*  A connected inproc pair of the given types: *a binds, *b connects.  */
static void make_pair (void *ctx, int ta, int tb, const char *ep, void **a, void **b)
{
    *a = zmq_socket (ctx, ta);
    *b = zmq_socket (ctx, tb);
    TEST_ASSERT (*a && *b);
    TEST_OK (zmq_bind (*a, ep));
    TEST_OK (zmq_connect (*b, ep));
}

/*  A failed zmq_poller_wait leaves no stale event behind.  */
static void assert_cleared (const zmq_poller_event_t *ev)
{
    TEST_ASSERT (ev->socket == NULL && ev->fd == -1 && ev->user_data == NULL && ev->events == 0);
}

static void test_sockets (void *ctx)
{
    void *a, *b;
    make_pair (ctx, ZMQ_PAIR, ZMQ_PAIR, "inproc://poller-sockets", &a, &b);
    int tag_a;
    void *poller = zmq_poller_new ();
    TEST_ASSERT (poller);
    TEST_ASSERT (zmq_poller_size (poller) == 0);

    TEST_OK (zmq_poller_add (poller, a, &tag_a, ZMQ_POLLIN));
    TEST_ASSERT (zmq_poller_size (poller) == 1);
    TEST_FAIL (zmq_poller_add (poller, a, NULL, ZMQ_POLLIN), EINVAL);
    TEST_FAIL (zmq_poller_add (poller, NULL, NULL, ZMQ_POLLIN), ENOTSOCK);
    TEST_FAIL (zmq_poller_add (poller, &tag_a, NULL, ZMQ_POLLIN), ENOTSOCK);
    TEST_FAIL (zmq_poller_add (poller, b, NULL, 0x100), EINVAL);
    TEST_FAIL (zmq_poller_add (NULL, b, NULL, ZMQ_POLLIN), EFAULT);
    TEST_ASSERT (zmq_poller_size (poller) == 1);

    /*  Nothing to read: EAGAIN, at once or after the timeout.  */
    zmq_poller_event_t ev;
    memset (&ev, 0x55, sizeof ev);
    TEST_FAIL (zmq_poller_wait (poller, &ev, 0), EAGAIN);
    assert_cleared (&ev);
    long t0 = now_ms ();
    TEST_FAIL (zmq_poller_wait (poller, &ev, 100), EAGAIN);
    long dt = now_ms () - t0;
    TEST_ASSERT (dt >= 90 && dt < 2000);

    /*  A message: the event names the socket and hands back user_data.  */
    TEST_ASSERT (zmq_send (b, "x", 1, 0) == 1);
    memset (&ev, 0, sizeof ev);
    TEST_ASSERT (zmq_poller_wait (poller, &ev, 1000) == 0);
    TEST_ASSERT (ev.socket == a && ev.fd == -1 && ev.user_data == &tag_a);
    TEST_ASSERT (ev.events == ZMQ_POLLIN);
    /*  Level-triggered: still ready until it is read.  */
    TEST_ASSERT (zmq_poller_wait (poller, &ev, 0) == 0 && ev.events == ZMQ_POLLIN);
    char c;
    TEST_ASSERT (zmq_recv (a, &c, 1, 0) == 1 && c == 'x');
    TEST_FAIL (zmq_poller_wait (poller, &ev, 0), EAGAIN);

    /*  modify: POLLOUT is ready on a connected PAIR; POLLERR/POLLPRI never show for sockets.  */
    TEST_OK (zmq_poller_modify (poller, a, ZMQ_POLLOUT | ZMQ_POLLERR | ZMQ_POLLPRI));
    TEST_ASSERT (zmq_poller_wait (poller, &ev, 0) == 0);
    TEST_ASSERT (ev.socket == a && ev.events == ZMQ_POLLOUT && ev.user_data == &tag_a);
    TEST_FAIL (zmq_poller_modify (poller, b, ZMQ_POLLIN), EINVAL);
    TEST_FAIL (zmq_poller_modify (poller, a, 0x100), EINVAL);
    TEST_FAIL (zmq_poller_modify (poller, NULL, ZMQ_POLLIN), ENOTSOCK);
    TEST_FAIL (zmq_poller_modify (NULL, a, ZMQ_POLLIN), EFAULT);

    /*  No events wanted: a finite wait times out, an endless one is refused.  */
    TEST_OK (zmq_poller_modify (poller, a, 0));
    TEST_FAIL (zmq_poller_wait (poller, &ev, 0), EAGAIN);
    TEST_FAIL (zmq_poller_wait (poller, &ev, 20), EAGAIN);
    TEST_FAIL (zmq_poller_wait (poller, &ev, -1), EFAULT);
    TEST_ASSERT (zmq_poller_size (poller) == 1);

    /*  remove.  */
    TEST_FAIL (zmq_poller_remove (poller, b), EINVAL);
    TEST_FAIL (zmq_poller_remove (poller, NULL), ENOTSOCK);
    TEST_FAIL (zmq_poller_remove (NULL, a), EFAULT);
    TEST_OK (zmq_poller_remove (poller, a));
    TEST_ASSERT (zmq_poller_size (poller) == 0);
    TEST_FAIL (zmq_poller_remove (poller, a), EINVAL);
    /*  Removed, it may be added again.  */
    TEST_OK (zmq_poller_add (poller, a, NULL, ZMQ_POLLOUT));
    TEST_ASSERT (zmq_poller_wait (poller, &ev, 0) == 0 && ev.user_data == NULL);
    TEST_OK (zmq_poller_remove (poller, a));

    /*  Empty: an endless wait is refused, a finite one sleeps and times out.  */
    TEST_FAIL (zmq_poller_wait (poller, &ev, -1), EFAULT);
    TEST_FAIL (zmq_poller_wait (poller, &ev, 0), EAGAIN);
    t0 = now_ms ();
    TEST_FAIL (zmq_poller_wait (poller, &ev, 50), EAGAIN);
    dt = now_ms () - t0;
    TEST_ASSERT (dt >= 40 && dt < 2000);

    TEST_OK (zmq_poller_destroy (&poller));
    TEST_ASSERT (poller == NULL);
    zmq_close (a);
    zmq_close (b);
}

static void test_fds (void *ctx)
{
    int fds[2];
    TEST_ASSERT (pipe (fds) == 0);
    int tag_r, tag_w, tag_s;
    void *poller = zmq_poller_new ();
    TEST_ASSERT (poller);

    TEST_OK (zmq_poller_add_fd (poller, fds[0], &tag_r, ZMQ_POLLIN));
    TEST_FAIL (zmq_poller_add_fd (poller, fds[0], NULL, ZMQ_POLLIN), EINVAL);
    TEST_FAIL (zmq_poller_add_fd (poller, -1, NULL, ZMQ_POLLIN), EBADF);
    TEST_FAIL (zmq_poller_add_fd (poller, fds[1], NULL, 0x100), EINVAL);
    TEST_FAIL (zmq_poller_add_fd (NULL, fds[1], NULL, ZMQ_POLLIN), EFAULT);
    TEST_FAIL (zmq_poller_modify_fd (poller, -1, ZMQ_POLLIN), EBADF);
    TEST_FAIL (zmq_poller_modify_fd (poller, fds[1], ZMQ_POLLIN), EINVAL);
    TEST_FAIL (zmq_poller_remove_fd (poller, -1), EBADF);
    TEST_FAIL (zmq_poller_remove_fd (poller, fds[1]), EINVAL);
    TEST_ASSERT (zmq_poller_size (poller) == 1);

    zmq_poller_event_t ev;
    TEST_FAIL (zmq_poller_wait (poller, &ev, 0), EAGAIN);
    TEST_ASSERT (write (fds[1], "y", 1) == 1);
    TEST_ASSERT (zmq_poller_wait (poller, &ev, 1000) == 0);
    TEST_ASSERT (ev.socket == NULL && ev.fd == fds[0] && ev.user_data == &tag_r);
    TEST_ASSERT (ev.events == ZMQ_POLLIN);

    /*  A socket and an fd in one poller, and a writable fd: wait_all sees all three.  */
    void *a, *b;
    make_pair (ctx, ZMQ_PULL, ZMQ_PUSH, "inproc://poller-fds", &a, &b);
    TEST_OK (zmq_poller_add (poller, a, &tag_s, ZMQ_POLLIN));
    TEST_OK (zmq_poller_add_fd (poller, fds[1], &tag_w, ZMQ_POLLOUT));
    TEST_ASSERT (zmq_poller_size (poller) == 3);
    TEST_ASSERT (zmq_send (b, "z", 1, 0) == 1);
    zmq_poller_event_t evs[4];
    memset (evs, 0, sizeof evs);
    TEST_ASSERT (zmq_poller_wait_all (poller, evs, 4, 1000) == 3);
    int seen = 0;
    for (int i = 0; i < 3; i++) {
        if (evs[i].socket == a) {
            TEST_ASSERT (evs[i].fd == -1 && evs[i].user_data == &tag_s);
            TEST_ASSERT (evs[i].events == ZMQ_POLLIN);
            seen |= 1;
        } else if (evs[i].fd == fds[0]) {
            TEST_ASSERT (evs[i].socket == NULL && evs[i].user_data == &tag_r);
            TEST_ASSERT (evs[i].events == ZMQ_POLLIN);
            seen |= 2;
        } else if (evs[i].fd == fds[1]) {
            TEST_ASSERT (evs[i].socket == NULL && evs[i].user_data == &tag_w);
            TEST_ASSERT (evs[i].events == ZMQ_POLLOUT);
            seen |= 4;
        }
    }
    TEST_ASSERT (seen == 7);
    /*  At most n_events are returned.  */
    TEST_ASSERT (zmq_poller_wait_all (poller, evs, 1, 0) == 1);
    TEST_ASSERT (zmq_poller_wait_all (poller, evs, 2, 0) == 2);
    TEST_FAIL (zmq_poller_wait_all (poller, evs, -1, 0), EINVAL);
    TEST_FAIL (zmq_poller_wait_all (poller, NULL, 1, 0), EFAULT);
    TEST_FAIL (zmq_poller_wait_all (NULL, evs, 1, 0), EFAULT);
    TEST_FAIL (zmq_poller_wait (poller, NULL, 0), EFAULT);

    /*  modify_fd turns the writable end off; reading drains the pipe and the socket.  */
    TEST_OK (zmq_poller_modify_fd (poller, fds[1], 0));
    char c;
    TEST_ASSERT (read (fds[0], &c, 1) == 1 && c == 'y');
    TEST_ASSERT (zmq_recv (a, &c, 1, 0) == 1 && c == 'z');
    TEST_FAIL (zmq_poller_wait_all (poller, evs, 4, 0), EAGAIN);
    TEST_FAIL (zmq_poller_wait_all (poller, evs, 4, 30), EAGAIN);

    /*  The writer gone, the reader hangs up: poll(2)'s POLLHUP shows as ZMQ_POLLERR.  */
    TEST_OK (zmq_poller_remove_fd (poller, fds[1]));
    close (fds[1]);
    TEST_ASSERT (zmq_poller_wait (poller, &ev, 1000) == 0);
    TEST_ASSERT (ev.fd == fds[0] && (ev.events & ZMQ_POLLERR));
    TEST_OK (zmq_poller_remove_fd (poller, fds[0]));
    TEST_OK (zmq_poller_remove (poller, a));
    TEST_ASSERT (zmq_poller_size (poller) == 0);
    close (fds[0]);

    TEST_OK (zmq_poller_destroy (&poller));
    zmq_close (a);
    zmq_close (b);
}

static void *send_later (void *sock)
{
    usleep (100 * 1000);
    TEST_ASSERT (zmq_send (sock, "late", 4, 0) == 4);
    return NULL;
}

/*  Endless waits end when another thread sends.  */
static void test_wait_forever (void *ctx)
{
    void *a, *b;
    make_pair (ctx, ZMQ_PULL, ZMQ_PUSH, "inproc://poller-forever", &a, &b);
    void *poller = zmq_poller_new ();
    TEST_OK (zmq_poller_add (poller, a, NULL, ZMQ_POLLIN));

    pthread_t t;
    long t0 = now_ms ();
    TEST_ASSERT (pthread_create (&t, NULL, send_later, b) == 0);
    zmq_poller_event_t ev;
    TEST_ASSERT (zmq_poller_wait (poller, &ev, -1) == 0);
    TEST_ASSERT (ev.socket == a && ev.events == ZMQ_POLLIN);
    TEST_ASSERT (now_ms () - t0 >= 90);
    pthread_join (t, NULL);
    char buf[8];
    TEST_ASSERT (zmq_recv (a, buf, sizeof buf, 0) == 4);

    TEST_ASSERT (pthread_create (&t, NULL, send_later, b) == 0);
    zmq_poller_event_t evs[2];
    TEST_ASSERT (zmq_poller_wait_all (poller, evs, 2, -1) == 1);
    TEST_ASSERT (evs[0].socket == a && evs[0].events == ZMQ_POLLIN);
    pthread_join (t, NULL);
    TEST_ASSERT (zmq_recv (a, buf, sizeof buf, 0) == 4);

    /*  A positive timeout longer than the wait works the same.  */
    TEST_ASSERT (pthread_create (&t, NULL, send_later, b) == 0);
    TEST_ASSERT (zmq_poller_wait (poller, &ev, 5000) == 0 && ev.socket == a);
    pthread_join (t, NULL);
    TEST_ASSERT (zmq_recv (a, buf, sizeof buf, 0) == 4);

    TEST_OK (zmq_poller_destroy (&poller));
    zmq_close (a);
    zmq_close (b);
}

static void *shutdown_later (void *ctx)
{
    usleep (100 * 1000);
    TEST_OK (zmq_ctx_shutdown (ctx));
    return NULL;
}

/*  A registered socket's context terminating ends the wait with ETERM.  */
static void test_eterm (void)
{
    void *ctx = zmq_ctx_new ();
    void *s = zmq_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_bind (s, "inproc://poller-term"));
    void *poller = zmq_poller_new ();
    TEST_OK (zmq_poller_add (poller, s, NULL, ZMQ_POLLIN));
    pthread_t t;
    TEST_ASSERT (pthread_create (&t, NULL, shutdown_later, ctx) == 0);
    zmq_poller_event_t ev;
    TEST_FAIL (zmq_poller_wait (poller, &ev, -1), ETERM);
    pthread_join (t, NULL);
    TEST_OK (zmq_poller_destroy (&poller));
    zmq_close (s);
    TEST_OK (zmq_ctx_term (ctx));
}

static void test_handles (void *ctx)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    TEST_FAIL (zmq_poller_destroy (NULL), EFAULT);
    void *poller = NULL;
    TEST_FAIL (zmq_poller_destroy (&poller), EFAULT);

    poller = zmq_poller_new ();
    void *copy = poller;
    int fd = -2;
    /*  No thread-safe sockets here, so a poller never has an fd of its own.  */
    TEST_FAIL (zmq_poller_fd (poller, &fd), EINVAL);
    TEST_ASSERT (fd == -2);
    TEST_FAIL (zmq_poller_fd (NULL, &fd), EFAULT);
    TEST_FAIL (zmq_poller_size (NULL), EFAULT);
    TEST_FAIL (zmq_poller_size (&fd), EFAULT);
    /*  Destroyed with registrations; the handle is then dead.  */
    TEST_OK (zmq_poller_add (poller, a, NULL, ZMQ_POLLIN));
    TEST_OK (zmq_poller_destroy (&poller));
    TEST_ASSERT (poller == NULL);
    TEST_FAIL (zmq_poller_destroy (&copy), EFAULT);
    TEST_ASSERT (copy != NULL);
    TEST_FAIL (zmq_poller_size (copy), EFAULT);
    TEST_FAIL (zmq_poller_add (copy, a, NULL, ZMQ_POLLIN), EFAULT);
    zmq_poller_event_t ev;
    TEST_FAIL (zmq_poller_wait (copy, &ev, 0), EFAULT);
    assert_cleared (&ev);

    /*  A closed socket is no socket.  */
    poller = zmq_poller_new ();
    zmq_close (a);
    TEST_FAIL (zmq_poller_add (poller, a, NULL, ZMQ_POLLIN), ENOTSOCK);
    TEST_OK (zmq_poller_destroy (&poller));
}

static volatile sig_atomic_t signals_seen;

static void on_signal (int sig)
{
    (void) sig;
    signals_seen++;
}

static void test_ppoll (void *ctx)
{
    void *a, *b;
    make_pair (ctx, ZMQ_PAIR, ZMQ_PAIR, "inproc://ppoll", &a, &b);
    zmq_pollitem_t items[] = {{a, 0, ZMQ_POLLIN, 0}};

    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: the wait must see EINTR */
    sigemptyset (&sa.sa_mask);
    TEST_ASSERT (sigaction (SIGUSR1, &sa, NULL) == 0);
    sigset_t usr1, outside, during;
    sigemptyset (&usr1);
    sigaddset (&usr1, SIGUSR1);
    TEST_ASSERT (pthread_sigmask (SIG_BLOCK, &usr1, &outside) == 0);
    during = outside;
    sigdelset (&during, SIGUSR1);

    /*  SIGUSR1 pending but blocked: zmq_poll and zmq_ppoll without a mask do not see it.  */
    TEST_ASSERT (raise (SIGUSR1) == 0);
    TEST_ASSERT (zmq_poll (items, 1, 30) == 0);
    TEST_ASSERT (zmq_ppoll (items, 1, 30, NULL) == 0);
    TEST_ASSERT (signals_seen == 0);

    /*  With a mask letting it through, the wait ends with EINTR once it is handled.  */
    long t0 = now_ms ();
    TEST_FAIL (zmq_ppoll (items, 1, 5000, &during), EINTR);
    TEST_ASSERT (signals_seen == 1);
    TEST_ASSERT (now_ms () - t0 < 2000);
    /*  Afterwards the old mask is back: a new one stays pending.  */
    TEST_ASSERT (raise (SIGUSR1) == 0);
    sigset_t pending;
    TEST_ASSERT (sigpending (&pending) == 0 && sigismember (&pending, SIGUSR1));
    TEST_ASSERT (signals_seen == 1);
    TEST_FAIL (zmq_ppoll (items, 1, -1, &during), EINTR);
    TEST_ASSERT (signals_seen == 2);
    /*  With nothing to poll it is a signal-aware sleep.  */
    TEST_ASSERT (raise (SIGUSR1) == 0);
    TEST_FAIL (zmq_ppoll (NULL, 0, -1, &during), EINTR);
    TEST_ASSERT (signals_seen == 3);

    /*  Ready items come back as with zmq_poll.  */
    TEST_ASSERT (zmq_send (b, "x", 1, 0) == 1);
    TEST_ASSERT (zmq_ppoll (items, 1, 1000, &during) == 1 && items[0].revents == ZMQ_POLLIN);
    TEST_ASSERT (zmq_ppoll (items, 1, 0, NULL) == 1);
    char c;
    TEST_ASSERT (zmq_recv (a, &c, 1, 0) == 1);
    TEST_ASSERT (zmq_ppoll (items, 1, 0, &during) == 0 && items[0].revents == 0);
    TEST_ASSERT (zmq_ppoll (NULL, 0, 0, &during) == 0);
    t0 = now_ms ();
    TEST_ASSERT (zmq_ppoll (NULL, 0, 50, NULL) == 0);
    TEST_ASSERT (now_ms () - t0 >= 40);
    TEST_FAIL (zmq_ppoll (items, -1, 0, NULL), EINVAL);
    TEST_FAIL (zmq_ppoll (NULL, 1, 0, NULL), EFAULT);
    zmq_pollitem_t bad[] = {{&c, 0, ZMQ_POLLIN, 0}};
    TEST_FAIL (zmq_ppoll (bad, 1, 0, NULL), ENOTSOCK);

    TEST_ASSERT (pthread_sigmask (SIG_SETMASK, &outside, NULL) == 0);
    sa.sa_handler = SIG_DFL;
    sigaction (SIGUSR1, &sa, NULL);
    zmq_close (a);
    zmq_close (b);
}

/*  Whether a thread of this process has a name starting with `prefix`.  */
static int thread_named (const char *prefix)
{
    DIR *dir = opendir ("/proc/self/task");
    TEST_ASSERT (dir != NULL);
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir (dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], name[64] = "";
        snprintf (path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen (path, "r");
        if (!f)
            continue;
        if (fgets (name, sizeof name, f))
            found = strncmp (name, prefix, strlen (prefix)) == 0;
        fclose (f);
    }
    closedir (dir);
    return found;
}

static void test_ctx_ext (void)
{
    void *ctx = zmq_ctx_new ();
    char buf[64];
    size_t len;

    /*  The prefix as a string, NUL-terminated or not.  */
    const char prefix[] = "MyApp";
    TEST_OK (zmq_ctx_set_ext (ctx, ZMQ_THREAD_NAME_PREFIX, prefix, sizeof prefix));
    len = sizeof buf;
    memset (buf, 'x', sizeof buf);
    TEST_OK (zmq_ctx_get_ext (ctx, ZMQ_THREAD_NAME_PREFIX, buf, &len));
    TEST_ASSERT (len == sizeof prefix && strcmp (buf, "MyApp") == 0);
    TEST_OK (zmq_ctx_set_ext (ctx, ZMQ_THREAD_NAME_PREFIX, "Other", 5));
    len = sizeof buf;
    TEST_OK (zmq_ctx_get_ext (ctx, ZMQ_THREAD_NAME_PREFIX, buf, &len));
    TEST_ASSERT (len == 6 && strcmp (buf, "Other") == 0);
    /*  At most 16 bytes; too small a buffer is refused.  */
    TEST_OK (zmq_ctx_set_ext (ctx, ZMQ_THREAD_NAME_PREFIX, "0123456789abcdef", 16));
    TEST_FAIL (zmq_ctx_set_ext (ctx, ZMQ_THREAD_NAME_PREFIX, "0123456789abcdefg", 17), EINVAL);
    TEST_FAIL (zmq_ctx_set_ext (ctx, ZMQ_THREAD_NAME_PREFIX, "", 0), EINVAL);
    len = 3;
    TEST_FAIL (zmq_ctx_get_ext (ctx, ZMQ_THREAD_NAME_PREFIX, buf, &len), EINVAL);
    /*  Set as an int, it reads back as its decimal string, or as an int.  */
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_NAME_PREFIX, 42));
    len = sizeof buf;
    TEST_OK (zmq_ctx_get_ext (ctx, ZMQ_THREAD_NAME_PREFIX, buf, &len));
    TEST_ASSERT (len == 3 && strcmp (buf, "42") == 0);
    int v = 0;
    len = sizeof v;
    TEST_OK (zmq_ctx_get_ext (ctx, ZMQ_THREAD_NAME_PREFIX, &v, &len));
    TEST_ASSERT (v == 42 && len == sizeof v);

    /*  Int options through an int-sized buffer.  */
    v = 2;
    TEST_OK (zmq_ctx_set_ext (ctx, ZMQ_IO_THREADS, &v, sizeof v));
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_IO_THREADS) == 2);
    v = 0;
    len = sizeof v;
    TEST_OK (zmq_ctx_get_ext (ctx, ZMQ_IO_THREADS, &v, &len));
    TEST_ASSERT (v == 2 && len == sizeof v);
    len = sizeof v;
    TEST_OK (zmq_ctx_get_ext (ctx, ZMQ_MSG_T_SIZE, &v, &len));
    TEST_ASSERT (v == (int) sizeof (zmq_msg_t));
    long big = 3;
    TEST_FAIL (zmq_ctx_set_ext (ctx, ZMQ_IO_THREADS, &big, sizeof big), EINVAL);
    len = sizeof big;
    TEST_FAIL (zmq_ctx_get_ext (ctx, ZMQ_IO_THREADS, &big, &len), EINVAL);
    v = -1;
    TEST_FAIL (zmq_ctx_set_ext (ctx, ZMQ_IO_THREADS, &v, sizeof v), EINVAL);
    TEST_FAIL (zmq_ctx_set_ext (ctx, 12345, &v, sizeof v), EINVAL);
    len = sizeof v;
    TEST_FAIL (zmq_ctx_get_ext (ctx, 12345, &v, &len), EINVAL);
    TEST_FAIL (zmq_ctx_set_ext (NULL, ZMQ_IO_THREADS, &v, sizeof v), EFAULT);
    TEST_FAIL (zmq_ctx_get_ext (NULL, ZMQ_IO_THREADS, &v, &len), EFAULT);
    TEST_FAIL (zmq_ctx_get_ext (ctx, ZMQ_IO_THREADS, &v, NULL), EFAULT);

    /*  The prefix names the I/O threads the first socket starts.  */
    TEST_OK (zmq_ctx_set_ext (ctx, ZMQ_THREAD_NAME_PREFIX, "PollerT", 7));
    TEST_ASSERT (!thread_named ("PollerT"));
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    TEST_ASSERT (s);
    /*  A new thread names itself once it runs: give it a moment.  */
    int named = 0;
    for (int i = 0; i < 200 && !named; i++) {
        named = thread_named ("PollerT");
        if (!named)
            usleep (5 * 1000);
    }
    TEST_ASSERT (named);
    zmq_close (s);
    TEST_OK (zmq_ctx_term (ctx));
    TEST_FAIL (zmq_ctx_set_ext (ctx, ZMQ_IO_THREADS, &v, sizeof v), EFAULT);
}

int main (void)
{
    test_setup (60);
    void *ctx = zmq_ctx_new ();
    TEST_ASSERT (ctx);
    test_sockets (ctx);
    test_fds (ctx);
    test_wait_forever (ctx);
    test_handles (ctx);
    test_ppoll (ctx);
    test_eterm ();
    test_ctx_ext ();
    TEST_OK (zmq_ctx_term (ctx));
    return 0;
}
