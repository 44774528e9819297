/*  Messages: every zmq_msg_* call outside sockets, errno values, small bodies inside the
    struct, bitwise copies of zmq_msg_t, zero-copy buffers freed exactly once, misuse.  */
#define ZMQ_BUILD_DRAFT_API
#include "testutil.h"

#include <pthread.h>
#include <stdint.h>

static int inside (const zmq_msg_t *msg, const void *p)
{
    const char *c = (const char *) p;
    return c >= (const char *) msg && c < (const char *) msg + sizeof (zmq_msg_t);
}

/*  A free function that counts calls and remembers its arguments and thread.  */
static volatile int freed;
static void *freed_data;
static void *freed_hint;
static pthread_t freed_on;

static void count_free (void *data, void *hint)
{
    freed++;
    freed_data = data;
    freed_hint = hint;
    freed_on = pthread_self ();
    free (data);
}

static void *buffer (size_t size, char fill)
{
    void *p = malloc (size);
    TEST_ASSERT (p);
    memset (p, fill, size);
    return p;
}

static void test_abi (void)
{
    TEST_ASSERT (sizeof (zmq_msg_t) == 64);
    TEST_ASSERT (_Alignof (zmq_msg_t) == sizeof (void *));
}

static void test_empty (void)
{
    zmq_msg_t msg;
    TEST_ASSERT (zmq_msg_init (&msg) == 0);
    TEST_ASSERT (zmq_msg_size (&msg) == 0);
    TEST_ASSERT (zmq_msg_data (&msg) != NULL);
    TEST_ASSERT (zmq_msg_more (&msg) == 0);
    TEST_ASSERT (zmq_msg_get (&msg, ZMQ_MORE) == 0);
    TEST_ASSERT (zmq_msg_get (&msg, ZMQ_SHARED) == 0);
    TEST_OK (zmq_msg_close (&msg));
    /*  Closing twice is caught, as libzmq's check() does.  */
    TEST_FAIL (zmq_msg_close (&msg), EFAULT);
    /*  zmq_msg_more is documented to work after close.  */
    TEST_ASSERT (zmq_msg_more (&msg) == 0);

    TEST_ASSERT (zmq_msg_init_size (&msg, 0) == 0);
    TEST_ASSERT (zmq_msg_size (&msg) == 0);
    TEST_OK (zmq_msg_close (&msg));
}

static void test_small_inline (void)
{
    /*  libzmq keeps up to 33 bytes inside the struct; C code may rely on it.  */
    for (size_t n = 1; n <= 33; n++) {
        zmq_msg_t msg;
        TEST_OK (zmq_msg_init_size (&msg, n));
        TEST_ASSERT (zmq_msg_size (&msg) == n);
        char *d = (char *) zmq_msg_data (&msg);
        TEST_ASSERT (inside (&msg, d));
        TEST_ASSERT (inside (&msg, d + n - 1));
        memset (d, (int) n, n);
        TEST_ASSERT (zmq_msg_get (&msg, ZMQ_SHARED) == 0);
        TEST_OK (zmq_msg_close (&msg));
    }
}

static void test_bitwise_copy (void)
{
    size_t sizes[] = {5, 33, 1000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        zmq_msg_t a, b;
        TEST_OK (zmq_msg_init_size (&a, n));
        memset (zmq_msg_data (&a), 'x', n);
        /*  Move the struct the way C does, then wreck the original bytes.  */
        memcpy (&b, &a, sizeof b);
        memset (&a, 0xa5, sizeof a);
        TEST_ASSERT (zmq_msg_size (&b) == n);
        char *d = (char *) zmq_msg_data (&b);
        if (n <= 33)
            TEST_ASSERT (inside (&b, d));
        for (size_t j = 0; j < n; j++)
            TEST_ASSERT (d[j] == 'x');
        TEST_OK (zmq_msg_close (&b));
    }

    /*  A zero-copy message survives being copied bitwise, and is freed once.  */
    freed = 0;
    void *p = buffer (100, 'q');
    zmq_msg_t a, b;
    TEST_OK (zmq_msg_init_data (&a, p, 100, count_free, NULL));
    memcpy (&b, &a, sizeof b);
    TEST_ASSERT (zmq_msg_data (&b) == p);
    TEST_OK (zmq_msg_close (&b));
    TEST_ASSERT (freed == 1);
}

static void test_init_data (void)
{
    zmq_msg_t a, b;
    int hint;

    /*  Zero copy; the free function runs once, on close, with data and hint.  */
    freed = 0;
    void *p = buffer (64, 'd');
    TEST_OK (zmq_msg_init_data (&a, p, 64, count_free, &hint));
    TEST_ASSERT (zmq_msg_data (&a) == p);
    TEST_ASSERT (zmq_msg_size (&a) == 64);
    TEST_ASSERT (zmq_msg_get (&a, ZMQ_SHARED) == 0);
    TEST_OK (zmq_msg_close (&a));
    TEST_ASSERT (freed == 1 && freed_data == p && freed_hint == &hint);

    /*  Small data with a free function is still zero copy.  */
    freed = 0;
    p = buffer (3, 's');
    TEST_OK (zmq_msg_init_data (&a, p, 3, count_free, NULL));
    TEST_ASSERT (zmq_msg_data (&a) == p);
    TEST_OK (zmq_msg_close (&a));
    TEST_ASSERT (freed == 1);

    /*  After zmq_msg_copy, only the last close frees; both report ZMQ_SHARED.  */
    freed = 0;
    p = buffer (200, 'c');
    TEST_OK (zmq_msg_init_data (&a, p, 200, count_free, NULL));
    TEST_OK (zmq_msg_init (&b));
    TEST_OK (zmq_msg_copy (&b, &a));
    TEST_ASSERT (zmq_msg_data (&b) == p);
    TEST_ASSERT (zmq_msg_get (&a, ZMQ_SHARED) == 1);
    TEST_ASSERT (zmq_msg_get (&b, ZMQ_SHARED) == 1);
    TEST_OK (zmq_msg_close (&a));
    TEST_ASSERT (freed == 0);
    TEST_ASSERT (zmq_msg_get (&b, ZMQ_SHARED) == 1); /* sticky, as libzmq */
    TEST_OK (zmq_msg_close (&b));
    TEST_ASSERT (freed == 1);
    TEST_FAIL (zmq_msg_close (&b), EFAULT);
    TEST_ASSERT (freed == 1);

    /*  Closing in the other order.  */
    freed = 0;
    p = buffer (200, 'c');
    TEST_OK (zmq_msg_init_data (&a, p, 200, count_free, NULL));
    TEST_OK (zmq_msg_init (&b));
    TEST_OK (zmq_msg_copy (&b, &a));
    TEST_OK (zmq_msg_close (&b));
    TEST_ASSERT (freed == 0);
    TEST_OK (zmq_msg_close (&a));
    TEST_ASSERT (freed == 1);

    /*  Empty buffer: the free function still runs, with NULL.  */
    freed = 0;
    TEST_OK (zmq_msg_init_data (&a, NULL, 0, count_free, &hint));
    TEST_ASSERT (zmq_msg_size (&a) == 0);
    TEST_OK (zmq_msg_close (&a));
    TEST_ASSERT (freed == 1 && freed_data == NULL && freed_hint == &hint);

    /*  NULL data with a length is refused (libzmq asserts).  */
    TEST_FAIL (zmq_msg_init_data (&a, NULL, 10, count_free, NULL), EFAULT);
    TEST_FAIL (zmq_msg_init_data (NULL, &hint, 10, count_free, NULL), EFAULT);
}

static void test_const_data (void)
{
    /*  Without a free function the data is constant: no copy, no free, always shared.  */
    static const char text[] = "constant message body, longer than forty bytes";
    zmq_msg_t a, b;
    TEST_OK (zmq_msg_init_data (&a, (void *) text, sizeof text, NULL, NULL));
    TEST_ASSERT (zmq_msg_data (&a) == text);
    TEST_ASSERT (zmq_msg_size (&a) == sizeof text);
    TEST_ASSERT (zmq_msg_get (&a, ZMQ_SHARED) == 1);
    TEST_OK (zmq_msg_init (&b));
    TEST_OK (zmq_msg_copy (&b, &a));
    TEST_ASSERT (zmq_msg_data (&b) == text);
    TEST_ASSERT (zmq_msg_get (&b, ZMQ_SHARED) == 1);
    TEST_OK (zmq_msg_close (&a));
    TEST_OK (zmq_msg_close (&b));

    TEST_OK (zmq_msg_init_data (&a, (void *) "hi", 2, NULL, NULL));
    TEST_ASSERT (memcmp (zmq_msg_data (&a), "hi", 2) == 0);
    TEST_OK (zmq_msg_close (&a));
}

static void test_init_buffer (void)
{
    char src[100];
    for (int i = 0; i < 100; i++)
        src[i] = (char) i;
    zmq_msg_t a;
    TEST_OK (zmq_msg_init_buffer (&a, src, 10));
    TEST_ASSERT (zmq_msg_size (&a) == 10);
    TEST_ASSERT (inside (&a, zmq_msg_data (&a)));
    TEST_ASSERT (memcmp (zmq_msg_data (&a), src, 10) == 0);
    TEST_OK (zmq_msg_close (&a));

    TEST_OK (zmq_msg_init_buffer (&a, src, 100));
    TEST_ASSERT (zmq_msg_data (&a) != src);
    TEST_ASSERT (memcmp (zmq_msg_data (&a), src, 100) == 0);
    src[0] = 42; /* a copy: later changes do not show */
    TEST_ASSERT (((char *) zmq_msg_data (&a))[0] == 0);
    TEST_OK (zmq_msg_close (&a));

    TEST_OK (zmq_msg_init_buffer (&a, NULL, 0));
    TEST_ASSERT (zmq_msg_size (&a) == 0);
    TEST_OK (zmq_msg_close (&a));
    TEST_FAIL (zmq_msg_init_buffer (&a, NULL, 5), EFAULT);
}

static void test_move (void)
{
    zmq_msg_t a, b;
    TEST_OK (zmq_msg_init_size (&a, 500));
    void *d = zmq_msg_data (&a);
    memset (d, 'm', 500);
    TEST_OK (zmq_msg_init_size (&b, 7));
    TEST_OK (zmq_msg_move (&b, &a));
    TEST_ASSERT (zmq_msg_data (&b) == d); /* no copy */
    TEST_ASSERT (zmq_msg_size (&b) == 500);
    TEST_ASSERT (zmq_msg_size (&a) == 0); /* src is an empty message, still open */
    TEST_OK (zmq_msg_close (&a));
    TEST_OK (zmq_msg_close (&b));

    /*  Small bodies move into the destination struct.  */
    TEST_OK (zmq_msg_init_buffer (&a, "tiny", 4));
    TEST_OK (zmq_msg_init (&b));
    TEST_OK (zmq_msg_move (&b, &a));
    TEST_ASSERT (inside (&b, zmq_msg_data (&b)));
    TEST_ASSERT (memcmp (zmq_msg_data (&b), "tiny", 4) == 0);

    /*  Moving onto itself changes nothing.  */
    TEST_OK (zmq_msg_move (&b, &b));
    TEST_ASSERT (memcmp (zmq_msg_data (&b), "tiny", 4) == 0);

    /*  The destination's old content is released.  */
    freed = 0;
    TEST_OK (zmq_msg_init_data (&a, buffer (50, 'o'), 50, count_free, NULL));
    TEST_OK (zmq_msg_move (&a, &b));
    TEST_ASSERT (freed == 1);
    TEST_ASSERT (memcmp (zmq_msg_data (&a), "tiny", 4) == 0);
    TEST_OK (zmq_msg_close (&a));
    TEST_OK (zmq_msg_close (&b));

    /*  Both ends must be open messages.  */
    TEST_OK (zmq_msg_init (&a));
    TEST_FAIL (zmq_msg_move (&a, &b), EFAULT);
    TEST_FAIL (zmq_msg_move (&b, &a), EFAULT);
    TEST_FAIL (zmq_msg_move (NULL, &a), EFAULT);
    TEST_FAIL (zmq_msg_move (&a, NULL), EFAULT);
    TEST_OK (zmq_msg_close (&a));
}

static void test_copy (void)
{
    zmq_msg_t a, b;
    TEST_OK (zmq_msg_init_size (&a, 20));
    memset (zmq_msg_data (&a), 's', 20);
    TEST_OK (zmq_msg_init (&b));
    TEST_OK (zmq_msg_copy (&b, &a));
    /*  A small body is copied into the destination.  */
    TEST_ASSERT (inside (&b, zmq_msg_data (&b)));
    TEST_ASSERT (memcmp (zmq_msg_data (&a), zmq_msg_data (&b), 20) == 0);
    TEST_ASSERT (zmq_msg_get (&a, ZMQ_SHARED) == 0);
    TEST_ASSERT (zmq_msg_get (&b, ZMQ_SHARED) == 0);
    TEST_OK (zmq_msg_close (&b));

    /*  The destination's old content is released first.  */
    freed = 0;
    TEST_OK (zmq_msg_init_data (&b, buffer (60, 'o'), 60, count_free, NULL));
    TEST_OK (zmq_msg_copy (&b, &a));
    TEST_ASSERT (freed == 1);
    TEST_ASSERT (zmq_msg_size (&b) == 20);
    TEST_OK (zmq_msg_copy (&b, &b));
    TEST_ASSERT (zmq_msg_size (&b) == 20);
    TEST_OK (zmq_msg_close (&b));

    /*  A large body is shared.  */
    zmq_msg_t big;
    TEST_OK (zmq_msg_init_size (&big, 4096));
    TEST_ASSERT (zmq_msg_get (&big, ZMQ_SHARED) == 0);
    TEST_OK (zmq_msg_init (&b));
    TEST_OK (zmq_msg_copy (&b, &big));
    TEST_ASSERT (zmq_msg_data (&b) == zmq_msg_data (&big));
    TEST_ASSERT (zmq_msg_get (&big, ZMQ_SHARED) == 1);
    TEST_OK (zmq_msg_close (&big));
    TEST_ASSERT (zmq_msg_size (&b) == 4096);
    TEST_OK (zmq_msg_close (&b));

    /*  Source and destination must be open messages.  */
    TEST_FAIL (zmq_msg_copy (&a, &b), EFAULT);
    TEST_FAIL (zmq_msg_copy (&b, &a), EFAULT);
    TEST_FAIL (zmq_msg_copy (NULL, &a), EFAULT);
    TEST_FAIL (zmq_msg_copy (&a, NULL), EFAULT);
    TEST_OK (zmq_msg_close (&a));
}

static void test_misuse (void)
{
    zmq_msg_t msg;
    /*  NULL messages.  */
    TEST_FAIL (zmq_msg_init (NULL), EFAULT);
    TEST_FAIL (zmq_msg_init_size (NULL, 10), EFAULT);
    TEST_FAIL (zmq_msg_close (NULL), EFAULT);
    errno = 0;
    TEST_ASSERT (zmq_msg_data (NULL) == NULL && errno == EFAULT);
    errno = 0;
    TEST_ASSERT (zmq_msg_size (NULL) == 0 && errno == EFAULT);
    TEST_FAIL (zmq_msg_more (NULL), EFAULT);
    TEST_FAIL (zmq_msg_get (NULL, ZMQ_MORE), EFAULT);
    errno = 0;
    TEST_ASSERT (zmq_msg_gets (NULL, "Socket-Type") == NULL && errno == EFAULT);

    /*  A closed message: EFAULT where libzmq would assert, instead of a crash.  */
    TEST_OK (zmq_msg_init_size (&msg, 100));
    TEST_OK (zmq_msg_close (&msg));
    errno = 0;
    TEST_ASSERT (zmq_msg_data (&msg) == NULL && errno == EFAULT);
    errno = 0;
    TEST_ASSERT (zmq_msg_size (&msg) == 0 && errno == EFAULT);
    TEST_FAIL (zmq_msg_close (&msg), EFAULT);
    TEST_ASSERT (zmq_msg_get (&msg, ZMQ_SHARED) == 0);

    /*  A zeroed struct is not a message.  */
    memset (&msg, 0, sizeof msg);
    TEST_FAIL (zmq_msg_close (&msg), EFAULT);
    errno = 0;
    TEST_ASSERT (zmq_msg_data (&msg) == NULL && errno == EFAULT);
}

static void test_properties (void)
{
    zmq_msg_t msg;
    TEST_OK (zmq_msg_init (&msg));
    TEST_FAIL (zmq_msg_get (&msg, 12345), EINVAL);
    TEST_FAIL (zmq_msg_get (&msg, ZMQ_SRCFD), EINVAL); /* no "__fd" metadata: -1 */
    TEST_FAIL (zmq_msg_set (&msg, ZMQ_MORE, 1), EINVAL);
    TEST_FAIL (zmq_msg_set (&msg, ZMQ_SHARED, 0), EINVAL);
    TEST_FAIL (zmq_msg_set (&msg, 12345, 0), EINVAL);

    /*  No metadata on a message that did not come from a connection.  */
    errno = 0;
    TEST_ASSERT (zmq_msg_gets (&msg, "Socket-Type") == NULL && errno == EINVAL);
    errno = 0;
    TEST_ASSERT (zmq_msg_gets (&msg, ZMQ_MSG_PROPERTY_ROUTING_ID) == NULL && errno == EINVAL);
    errno = 0;
    TEST_ASSERT (zmq_msg_gets (&msg, "X-Whatever") == NULL && errno == EINVAL);
    errno = 0;
    TEST_ASSERT (zmq_msg_gets (&msg, NULL) == NULL && errno == EFAULT);
    TEST_OK (zmq_msg_close (&msg));
    errno = 0;
    TEST_ASSERT (zmq_msg_gets (&msg, "Socket-Type") == NULL && errno == EINVAL);
}

static void test_routing_id (void)
{
    zmq_msg_t a, b;
    TEST_OK (zmq_msg_init_size (&a, 3));
    TEST_ASSERT (zmq_msg_routing_id (&a) == 0);
    TEST_FAIL (zmq_msg_set_routing_id (&a, 0), EINVAL);
    TEST_OK (zmq_msg_set_routing_id (&a, 42));
    TEST_ASSERT (zmq_msg_routing_id (&a) == 42);
    TEST_OK (zmq_msg_set_routing_id (&a, UINT32_MAX));
    TEST_ASSERT (zmq_msg_routing_id (&a) == UINT32_MAX);
    TEST_OK (zmq_msg_init (&b));
    TEST_OK (zmq_msg_copy (&b, &a));
    TEST_ASSERT (zmq_msg_routing_id (&b) == UINT32_MAX);
    TEST_OK (zmq_msg_close (&b));
    TEST_OK (zmq_msg_init (&b));
    TEST_OK (zmq_msg_move (&b, &a));
    TEST_ASSERT (zmq_msg_routing_id (&b) == UINT32_MAX);
    TEST_ASSERT (zmq_msg_routing_id (&a) == 0);
    TEST_OK (zmq_msg_close (&a));
    TEST_OK (zmq_msg_close (&b));
    TEST_FAIL (zmq_msg_set_routing_id (&b, 1), EFAULT);
    TEST_FAIL (zmq_msg_set_routing_id (NULL, 1), EFAULT);
}

static void test_group (void)
{
    zmq_msg_t a, b;
    char name[ZMQ_GROUP_MAX_LENGTH + 2];
    TEST_OK (zmq_msg_init (&a));
    TEST_ASSERT (strcmp (zmq_msg_group (&a), "") == 0);
    TEST_OK (zmq_msg_set_group (&a, "news"));
    const char *g = zmq_msg_group (&a);
    TEST_ASSERT (strcmp (g, "news") == 0);
    TEST_ASSERT (zmq_msg_group (&a) == g); /* stable */

    /*  Longest allowed, and one more.  */
    memset (name, 'g', sizeof name);
    name[ZMQ_GROUP_MAX_LENGTH] = 0;
    TEST_OK (zmq_msg_set_group (&a, name));
    TEST_ASSERT (strcmp (zmq_msg_group (&a), name) == 0);
    name[ZMQ_GROUP_MAX_LENGTH] = 'g';
    name[ZMQ_GROUP_MAX_LENGTH + 1] = 0;
    TEST_FAIL (zmq_msg_set_group (&a, name), EINVAL);
    name[ZMQ_GROUP_MAX_LENGTH] = 0;
    TEST_ASSERT (strcmp (zmq_msg_group (&a), name) == 0); /* unchanged */
    TEST_FAIL (zmq_msg_set_group (&a, NULL), EFAULT);

    /*  Copies and moves carry the group; each copy owns its own.  */
    TEST_OK (zmq_msg_init (&b));
    TEST_OK (zmq_msg_copy (&b, &a));
    TEST_ASSERT (strcmp (zmq_msg_group (&b), name) == 0);
    TEST_OK (zmq_msg_close (&a));
    TEST_ASSERT (strcmp (zmq_msg_group (&b), name) == 0);
    TEST_OK (zmq_msg_init (&a));
    TEST_OK (zmq_msg_move (&a, &b));
    TEST_ASSERT (strcmp (zmq_msg_group (&a), name) == 0);
    TEST_ASSERT (strcmp (zmq_msg_group (&b), "") == 0);
    TEST_OK (zmq_msg_set_group (&a, "short"));
    TEST_ASSERT (strcmp (zmq_msg_group (&a), "short") == 0);
    TEST_OK (zmq_msg_set_group (&a, "a-middle-sized-group"));
    TEST_ASSERT (strcmp (zmq_msg_group (&a), "a-middle-sized-group") == 0);
    TEST_OK (zmq_msg_close (&a));
    TEST_OK (zmq_msg_close (&b));
    errno = 0;
    TEST_ASSERT (zmq_msg_group (&a) == NULL && errno == EFAULT);
}

static void test_big (void)
{
    const size_t n = 10 * 1024 * 1024;
    zmq_msg_t a, b;
    TEST_OK (zmq_msg_init_size (&a, n));
    TEST_ASSERT (zmq_msg_size (&a) == n);
    unsigned char *d = (unsigned char *) zmq_msg_data (&a);
    /*  zmq_msg_init_size leaves the bytes unspecified, as libzmq does.  */
    memset (d, 0, n);
    for (size_t i = 0; i < n; i += 4096)
        d[i] = (unsigned char) (i >> 12);
    d[n - 1] = 0x5a;
    TEST_OK (zmq_msg_init (&b));
    TEST_OK (zmq_msg_copy (&b, &a));
    TEST_OK (zmq_msg_close (&a));
    d = (unsigned char *) zmq_msg_data (&b);
    for (size_t i = 0; i < n; i += 4096)
        TEST_ASSERT (d[i] == (unsigned char) (i >> 12));
    TEST_ASSERT (d[n - 1] == 0x5a);

    TEST_OK (zmq_msg_init_buffer (&a, d, n));
    TEST_ASSERT (zmq_msg_size (&a) == n);
    TEST_ASSERT (memcmp (zmq_msg_data (&a), d, n) == 0);
    TEST_OK (zmq_msg_close (&a));
    TEST_OK (zmq_msg_close (&b));
}

static void test_enomem (void)
{
    /*  Fails cleanly rather than aborting; the struct is left closed.  */
    zmq_msg_t msg;
    TEST_FAIL (zmq_msg_init_size (&msg, SIZE_MAX / 2), ENOMEM);
    TEST_FAIL (zmq_msg_close (&msg), EFAULT);
    TEST_FAIL (zmq_msg_init_size (&msg, SIZE_MAX - 8), ENOMEM);
    /*  Larger than the address space, so malloc itself fails whatever the overcommit.  */
    TEST_FAIL (zmq_msg_init_size (&msg, (size_t) 1 << 48), ENOMEM);
    TEST_FAIL (zmq_msg_close (&msg), EFAULT);
    TEST_FAIL (zmq_msg_init_buffer (&msg, &msg, SIZE_MAX - 8), ENOMEM);
}

/*  The free function runs on whichever thread drops the last reference.  */
static void *close_later (void *arg)
{
    zmq_msg_t *msg = (zmq_msg_t *) arg;
    usleep (20 * 1000);
    TEST_OK (zmq_msg_close (msg));
    return NULL;
}

static void test_free_on_other_thread (void)
{
    freed = 0;
    zmq_msg_t a, b;
    TEST_OK (zmq_msg_init_data (&a, buffer (1000, 't'), 1000, count_free, NULL));
    TEST_OK (zmq_msg_init (&b));
    TEST_OK (zmq_msg_copy (&b, &a));
    pthread_t t;
    TEST_ASSERT (pthread_create (&t, NULL, close_later, &b) == 0);
    TEST_OK (zmq_msg_close (&a));
    TEST_ASSERT (pthread_join (t, NULL) == 0);
    TEST_ASSERT (freed == 1);
    TEST_ASSERT (pthread_equal (freed_on, t));
}

/*  A free function may call back into the API, even on the message being closed.  */
static zmq_msg_t reentered;
static volatile int reentry_ok;

static void reenter_free (void *data, void *hint)
{
    zmq_msg_t *self = (zmq_msg_t *) hint;
    zmq_msg_t other;
    reentry_ok = zmq_msg_close (self) == -1 && errno == EFAULT
                 && zmq_msg_init_buffer (&other, data, 50) == 0
                 && zmq_msg_close (&other) == 0;
    free (data);
}

static void test_reentrant_free (void)
{
    reentry_ok = 0;
    TEST_OK (zmq_msg_init_data (&reentered, buffer (100, 'r'), 100, reenter_free, &reentered));
    TEST_OK (zmq_msg_close (&reentered));
    TEST_ASSERT (reentry_ok);
}

static void test_many (void)
{
    for (int i = 0; i < 10000; i++) {
        zmq_msg_t a, b;
        TEST_OK (zmq_msg_init_size (&a, (size_t) (i % 200)));
        TEST_OK (zmq_msg_init (&b));
        TEST_OK (zmq_msg_copy (&b, &a));
        TEST_OK (zmq_msg_close (&a));
        TEST_OK (zmq_msg_close (&b));
    }
}

int main (void)
{
    test_setup (30);
    test_abi ();
    test_empty ();
    test_small_inline ();
    test_bitwise_copy ();
    test_init_data ();
    test_const_data ();
    test_init_buffer ();
    test_move ();
    test_copy ();
    test_misuse ();
    test_properties ();
    test_routing_id ();
    test_group ();
    test_big ();
    test_enomem ();
    test_free_on_other_thread ();
    test_reentrant_free ();
    test_many ();
    return 0;
}
