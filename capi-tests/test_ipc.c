/*  ipc://: file-system paths (a leftover file is replaced at bind; libzmq 4.3 leaves the
    file in place at unbind and close), abstract names, the `*` wildcard (a private directory
    under $TMPDIR/$TEMPDIR/$TMP or the current directory, removed with the endpoint), name
    lengths, connect before bind, ZMQ_USE_FD, CLOSE_FAILED.  */
#include "netutil.h"
#include <sys/stat.h>
#include <sys/un.h>

static char dir[64];

static int is_socket_file (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 && S_ISSOCK (st.st_mode);
}

static int exists (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0;
}

/*  Unbinds `ep` and waits until its listener has closed.  */
static void unbind_and_wait (void *ctx, void *s, const char *ep)
{
    static int n;
    char mep[64];
    snprintf (mep, sizeof mep, "inproc://ipc-unbind-%d", n++);
    void *m = monitor_open (ctx, s, mep, ZMQ_EVENT_CLOSED | ZMQ_EVENT_CLOSE_FAILED);
    TEST_OK (zmq_unbind (s, ep));
    expect_event (m, ZMQ_EVENT_CLOSED, ep);
    TEST_OK (zmq_socket_monitor (s, NULL, 0));
    TEST_OK (zmq_close (m));
}

static void test_path (void *ctx)
{
    char path[128], ep[160], last[256];
    snprintf (path, sizeof path, "%s/path.sock", dir);
    snprintf (ep, sizeof ep, "ipc://%s", path);
    void *b = new_socket (ctx, ZMQ_PULL);
    bind_at (b, ep, last, sizeof last);
    TEST_ASSERT (strcmp (last, ep) == 0);
    TEST_ASSERT (is_socket_file (path));
    void *c = new_socket (ctx, ZMQ_PUSH);
    TEST_OK (zmq_connect (c, ep));
    TEST_ASSERT (strcmp (last_endpoint (c, last, sizeof last), ep) == 0);
    send_str (c, "over a path");
    recv_str (b, "over a path");
    TEST_FAIL (zmq_unbind (b, "ipc://*"), ENOENT);
    /*  The file stays after unbind (and close): only the next bind replaces it.  */
    unbind_and_wait (ctx, b, ep);
    TEST_ASSERT (is_socket_file (path));
    TEST_FAIL (zmq_unbind (b, ep), ENOENT);
    TEST_OK (zmq_bind (b, ep));
    TEST_OK (zmq_close (c));
    c = new_socket (ctx, ZMQ_PUSH);
    TEST_OK (zmq_connect (c, ep));
    send_str (c, "rebound");
    recv_str (b, "rebound");
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (b));
    TEST_ASSERT (is_socket_file (path));
    unlink (path);
}

/*  A file left at the path (by an earlier process) is removed by bind; a second bind of
    the same path takes it over, as the zmq_ipc page warns.  */
static void test_takeover (void *ctx)
{
    char path[128], ep[160];
    snprintf (path, sizeof path, "%s/stale.sock", dir);
    snprintf (ep, sizeof ep, "ipc://%s", path);
    FILE *f = fopen (path, "w");
    TEST_ASSERT (f != NULL);
    fclose (f);
    void *b1 = new_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_bind (b1, ep));
    TEST_ASSERT (is_socket_file (path));
    void *b2 = new_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_bind (b2, ep));
    void *c = new_socket (ctx, ZMQ_PUSH);
    TEST_OK (zmq_connect (c, ep));
    send_str (c, "to the newer one");
    recv_str (b2, "to the newer one");
    recv_nothing (b1, 50);
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (b1));
    TEST_OK (zmq_close (b2));
    unlink (path);
}

static void test_abstract (void *ctx)
{
    char ep[64], last[256];
    snprintf (ep, sizeof ep, "ipc://@ferrozmq-test-%d", (int) getpid ());
    void *b = new_socket (ctx, ZMQ_PULL);
    bind_at (b, ep, last, sizeof last);
    TEST_ASSERT (strcmp (last, ep) == 0);
    /*  Unlike paths, abstract names are not taken over.  */
    void *b2 = new_socket (ctx, ZMQ_PULL);
    TEST_FAIL (zmq_bind (b2, ep), EADDRINUSE);
    void *c = new_socket (ctx, ZMQ_PUSH);
    TEST_OK (zmq_connect (c, ep));
    send_str (c, "abstract");
    recv_str (b, "abstract");
    unbind_and_wait (ctx, b, ep);
    TEST_OK (zmq_bind (b2, ep));
    TEST_OK (zmq_close (c));
    c = new_socket (ctx, ZMQ_PUSH);
    TEST_OK (zmq_connect (c, ep));
    send_str (c, "again");
    recv_str (b2, "again");
    TEST_FAIL (zmq_bind (b, "ipc://@"), EINVAL);
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (b));
    TEST_OK (zmq_close (b2));
}

/*  The wildcard, under the temporary directory named by the environment.  */
static void test_wildcard (void *ctx)
{
    char tmp[128], last[256], path[512], sub[512];
    snprintf (tmp, sizeof tmp, "%s/wild", dir);
    TEST_ASSERT (mkdir (tmp, 0700) == 0);
    /*  TMPDIR first, but only if it is a directory; then TEMPDIR, then TMP.  */
    setenv ("TMPDIR", "/nonexistent-ferrozmq", 1);
    unsetenv ("TEMPDIR");
    setenv ("TMP", tmp, 1);
    void *b = new_socket (ctx, ZMQ_PULL);
    bind_at (b, "ipc://*", last, sizeof last);
    size_t n = strlen (tmp);
    TEST_ASSERT (strncmp (last, "ipc://", 6) == 0 && strncmp (last + 6, tmp, n) == 0);
    TEST_ASSERT (strncmp (last + 6 + n, "/tmp", 4) == 0);
    TEST_ASSERT (strlen (last + 6 + n) == strlen ("/tmpXXXXXX/socket"));
    TEST_ASSERT (strcmp (last + strlen (last) - 7, "/socket") == 0);
    snprintf (path, sizeof path, "%s", last + 6);
    snprintf (sub, sizeof sub, "%s", path);
    *strrchr (sub, '/') = 0;
    struct stat st;
    TEST_ASSERT (stat (sub, &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 0777) == 0700);
    TEST_ASSERT (is_socket_file (path));
    void *c = new_socket (ctx, ZMQ_PUSH);
    TEST_OK (zmq_connect (c, last));
    send_str (c, "wild");
    recv_str (b, "wild");
    TEST_FAIL (zmq_unbind (b, "ipc://*"), ENOENT);
    /*  The socket file and its directory go with the endpoint.  */
    unbind_and_wait (ctx, b, last);
    TEST_ASSERT (!exists (path) && !exists (sub));

    /*  With no temporary directory named, libzmq uses the current one.  */
    unsetenv ("TMPDIR");
    unsetenv ("TMP");
    char cwd[256];
    TEST_ASSERT (getcwd (cwd, sizeof cwd) != NULL);
    TEST_ASSERT (chdir (tmp) == 0);
    bind_at (b, "ipc://*", last, sizeof last);
    TEST_ASSERT (strncmp (last, "ipc://tmp", 9) == 0);
    snprintf (path, sizeof path, "%s/%s", tmp, last + 6);
    TEST_ASSERT (is_socket_file (path));
    TEST_OK (zmq_close (c));
    c = new_socket (ctx, ZMQ_PUSH);
    TEST_OK (zmq_connect (c, last));
    send_str (c, "relative");
    recv_str (b, "relative");
    /*  Closing the socket removes them too (by the time its monitor stops, with libzmq).  */
    void *m = monitor_open (ctx, b, "inproc://ipc-wild-close", ZMQ_EVENT_MONITOR_STOPPED);
    TEST_OK (zmq_close (b));
    expect_event (m, ZMQ_EVENT_MONITOR_STOPPED, "");
    snprintf (sub, sizeof sub, "%s", path);
    *strrchr (sub, '/') = 0;
    long deadline = now_ms () + (SESSION_FIXED ? 0 : 1000);
    while (exists (sub) && now_ms () < deadline)
        usleep (1000);
    TEST_ASSERT (!exists (path) && !exists (sub));
    TEST_ASSERT (chdir (cwd) == 0);
    TEST_OK (zmq_close (m));
    TEST_OK (zmq_close (c));
    TEST_ASSERT (rmdir (tmp) == 0);
}

/*  Removing a wildcard endpoint whose file someone deleted: CLOSE_FAILED with the errno,
    and the directory stays.  */
static void test_close_failed (void *ctx)
{
    if (!SESSION_FIXED)
        return;
    setenv ("TMPDIR", dir, 1);
    void *b = new_socket (ctx, ZMQ_PULL);
    char last[256], sub[256];
    bind_at (b, "ipc://*", last, sizeof last);
    TEST_ASSERT (unlink (last + 6) == 0);
    void *m = monitor_open (ctx, b, "inproc://ipc-close-failed", ZMQ_EVENT_ALL);
    TEST_OK (zmq_unbind (b, last));
    TEST_ASSERT (expect_event (m, ZMQ_EVENT_CLOSE_FAILED, last) == ENOENT);
    snprintf (sub, sizeof sub, "%s", last + 6);
    *strrchr (sub, '/') = 0;
    TEST_ASSERT (exists (sub));
    TEST_ASSERT (rmdir (sub) == 0);
    TEST_OK (zmq_close (b));
    TEST_OK (zmq_close (m));
    unsetenv ("TMPDIR");
}

/*  A sockaddr_un path holds 107 characters.  */
static void test_lengths (void *ctx)
{
    void *b = new_socket (ctx, ZMQ_PULL);
    char ep[160];
    /*  "ipc://" + a path of exactly `len` characters.  */
    for (int len = 106; len <= 109; len++) {
        int dl = (int) strlen (dir);
        snprintf (ep, sizeof ep, "ipc://%s/", dir);
        for (int i = dl + 1; i < len; i++)
            strcat (ep, "p");
        TEST_ASSERT ((int) strlen (ep) == 6 + len);
        if (len <= 107) {
            TEST_OK (zmq_bind (b, ep));
            TEST_OK (zmq_unbind (b, ep));
            unlink (ep + 6);
        } else {
            TEST_FAIL (zmq_bind (b, ep), ENAMETOOLONG);
            void *c = new_socket (ctx, ZMQ_PUSH);
            TEST_FAIL (zmq_connect (c, ep), ENAMETOOLONG);
            TEST_OK (zmq_close (c));
        }
    }
    TEST_FAIL (zmq_bind (b, "ipc://"), EINVAL);
    TEST_FAIL (zmq_bind (b, "ipc:///nonexistent-ferrozmq-dir/x.sock"), ENOENT);
    TEST_OK (zmq_close (b));
}

/*  Messages sent before anyone binds wait, and arrive once the path exists.  */
static void test_connect_before_bind (void *ctx)
{
    char ep[160];
    snprintf (ep, sizeof ep, "ipc://%s/later.sock", dir);
    void *c = new_socket (ctx, ZMQ_PUSH);
    set_int (c, ZMQ_RECONNECT_IVL, 20);
    TEST_OK (zmq_connect (c, ep));
    send_str (c, "early");
    void *b = new_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_bind (b, ep));
    recv_str (b, "early");
    TEST_OK (zmq_close (c));
    TEST_OK (zmq_close (b));
    unlink (ep + 6);
}

/*  ZMQ_USE_FD: the application's listening socket; ZMQ_LAST_ENDPOINT is the address given,
    and its file is the application's to remove.  */
static void test_use_fd (void *ctx)
{
    char path[128], ep[160], last[256];
    snprintf (path, sizeof path, "%s/fd.sock", dir);
    snprintf (ep, sizeof ep, "ipc://%s", path);
    int lfd = socket (AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    memset (&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    TEST_ASSERT (strlen (path) < sizeof a.sun_path);
    memcpy (a.sun_path, path, strlen (path) + 1);
    TEST_ASSERT (bind (lfd, (struct sockaddr *) &a, sizeof a) == 0);
    TEST_ASSERT (listen (lfd, 8) == 0);
    void *b = new_socket (ctx, ZMQ_PULL);
    set_int (b, ZMQ_USE_FD, lfd);
    bind_at (b, ep, last, sizeof last);
    TEST_ASSERT (strcmp (last, ep) == 0);
    void *c = new_socket (ctx, ZMQ_PUSH);
    TEST_OK (zmq_connect (c, ep));
    send_str (c, "via fd");
    recv_str (b, "via fd");
    TEST_OK (zmq_close (c));
    unbind_and_wait (ctx, b, ep);
    TEST_ASSERT (is_socket_file (path));
    TEST_OK (zmq_close (b));
    unlink (path);
}

int main (void)
{
    net_setup ();
    snprintf (dir, sizeof dir, "/tmp/ferrozmq-ipc-XXXXXX");
    TEST_ASSERT (mkdtemp (dir) != NULL);
    void *ctx = zmq_ctx_new ();
    TEST_ASSERT (ctx);
    test_path (ctx);
    test_takeover (ctx);
    test_abstract (ctx);
    test_wildcard (ctx);
    test_close_failed (ctx);
    test_lengths (ctx);
    test_connect_before_bind (ctx);
    test_use_fd (ctx);
    TEST_OK (zmq_ctx_term (ctx));
    TEST_ASSERT (rmdir (dir) == 0);
    return 0;
}
