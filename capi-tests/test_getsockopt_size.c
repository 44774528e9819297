/*  zmq_getsockopt with buffers of every size, for every kind of option, as libzmq 4.3 does:
    options the socket answers itself (RCVMORE, FD, EVENTS, THREAD_SAFE, LAST_ENDPOINT) take
    any buffer large enough and zero the rest of it; stored ints and 64-bit values need the
    exact size; binary and string values need room and zero the rest; CURVE keys are 32 raw
    bytes or 41 bytes of Z85 text. A failed call leaves the buffer alone.  */
#include "refutil.h"

#define FILL 0xAA

enum kind { SOCKET_INT, INT, INT64, BINARY, STRING, KEY };

struct opt {
    int option;
    const char *name;
    enum kind kind;
    size_t value_len; /*  BINARY/STRING: the length getsockopt reports  */
};

static void check (void *s, const struct opt *o, size_t size)
{
    unsigned char buf[300];
    memset (buf, FILL, sizeof buf);
    size_t len = size;
    int rc = zmq_getsockopt (s, o->option, buf, &len);
    int ok;
    size_t want_len;
    switch (o->kind) {
        case SOCKET_INT: ok = size >= sizeof (int); want_len = sizeof (int); break;
        case INT: ok = size == sizeof (int); want_len = size; break;
        case INT64: ok = size == 8; want_len = size; break;
        case BINARY:
        case STRING: ok = size >= o->value_len; want_len = o->value_len; break;
        case KEY: ok = size == 32 || size == 41; want_len = size; break;
        default: ok = 0; want_len = 0;
    }
    if (!ok) {
        if (rc != -1 || errno != EINVAL || len != size) {
            fprintf (stderr, "%s into %zu bytes: rc %d errno %d len %zu, want EINVAL\n", o->name,
                     size, rc, errno, len);
            abort ();
        }
        for (size_t i = 0; i < sizeof buf; i++)
            TEST_ASSERT (buf[i] == FILL);
        return;
    }
    if (rc != 0 || len != want_len) {
        fprintf (stderr, "%s into %zu bytes: rc %d errno %d len %zu, want 0/len %zu\n", o->name,
                 size, rc, errno, len, want_len);
        abort ();
    }
    /*  The value itself (a stored int or id could contain FILL bytes only by design: none
        of the values below do), then zeros to the end of the caller's buffer, and nothing
        written past it.  */
    for (size_t i = 0; i < want_len; i++)
        TEST_ASSERT (buf[i] != FILL);
    for (size_t i = want_len; i < size; i++) {
        if (buf[i] != 0) {
            fprintf (stderr, "%s into %zu bytes: byte %zu left 0x%02x, want 0\n", o->name,
                     size, i, buf[i]);
            abort ();
        }
    }
    for (size_t i = size; i < sizeof buf; i++)
        TEST_ASSERT (buf[i] == FILL);
    if (o->kind == STRING)
        TEST_ASSERT (buf[want_len - 1] == 0 && strlen ((char *) buf) == want_len - 1);
}

int main (void)
{
    ref_setup (20);
    void *ctx = zmq_ctx_new ();
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    TEST_ASSERT (s);
    TEST_OK (zmq_setsockopt (s, ZMQ_ROUTING_ID, "abc", 3));
    TEST_OK (zmq_setsockopt (s, ZMQ_PLAIN_USERNAME, "user", 4));
    TEST_OK (zmq_setsockopt (s, ZMQ_PLAIN_PASSWORD, "secret", 6));
    TEST_OK (zmq_setsockopt (s, ZMQ_ZAP_DOMAIN, "dom", 3));
    TEST_OK (zmq_setsockopt (s, ZMQ_SOCKS_PROXY, "127.0.0.1:1080", 14));
    TEST_OK (zmq_bind (s, "inproc://getsockopt-size"));
    /*  Values with no 0xAA byte and no zero byte where the check looks for them.  */
    int hwm = 0x01020304;
    TEST_OK (zmq_setsockopt (s, ZMQ_SNDHWM, &hwm, sizeof hwm));
    int64_t maxmsg = 0x0102030405060708LL;
    TEST_OK (zmq_setsockopt (s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg));
    uint64_t affinity = 0x0807060504030201ULL;
    TEST_OK (zmq_setsockopt (s, ZMQ_AFFINITY, &affinity, sizeof affinity));

    const struct opt opts[] = {
        {ZMQ_FD, "ZMQ_FD", SOCKET_INT, 0},
        {ZMQ_SNDHWM, "ZMQ_SNDHWM", INT, 0},
        {ZMQ_MAXMSGSIZE, "ZMQ_MAXMSGSIZE", INT64, 0},
        {ZMQ_AFFINITY, "ZMQ_AFFINITY", INT64, 0},
        {ZMQ_ROUTING_ID, "ZMQ_ROUTING_ID", BINARY, 3},
        {ZMQ_LAST_ENDPOINT, "ZMQ_LAST_ENDPOINT", STRING, sizeof "inproc://getsockopt-size"},
        {ZMQ_PLAIN_USERNAME, "ZMQ_PLAIN_USERNAME", STRING, 5},
        {ZMQ_PLAIN_PASSWORD, "ZMQ_PLAIN_PASSWORD", STRING, 7},
        {ZMQ_ZAP_DOMAIN, "ZMQ_ZAP_DOMAIN", STRING, 4},
        {ZMQ_SOCKS_PROXY, "ZMQ_SOCKS_PROXY", STRING, 15},
    };
    const size_t sizes[] = {0, 1, 3, 4, 5, 7, 8, 9, 16, 31, 32, 33, 40, 41, 42, 64, 256};
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
            check (s, &opts[i], sizes[k]);

    /*  Values that may be zero bytes: checked for size handling and zeroing separately.  */
    const int socket_ints[] = {ZMQ_RCVMORE, ZMQ_EVENTS, ZMQ_THREAD_SAFE};
    const int stored_ints[] = {ZMQ_TYPE, ZMQ_LINGER, ZMQ_RCVHWM, ZMQ_RATE, ZMQ_SNDBUF,
                               ZMQ_RCVTIMEO, ZMQ_IMMEDIATE, ZMQ_IPV6, ZMQ_MECHANISM,
                               ZMQ_PLAIN_SERVER, ZMQ_HEARTBEAT_TTL, ZMQ_CONNECT_TIMEOUT};
    for (size_t i = 0; i < sizeof socket_ints / sizeof *socket_ints; i++) {
        for (size_t size = 0; size <= 16; size++) {
            unsigned char buf[32];
            memset (buf, FILL, sizeof buf);
            size_t len = size;
            int rc = zmq_getsockopt (s, socket_ints[i], buf, &len);
            if (size < sizeof (int)) {
                TEST_ASSERT (rc == -1 && errno == EINVAL && len == size);
                continue;
            }
            TEST_ASSERT (rc == 0 && len == sizeof (int));
            for (size_t b = sizeof (int); b < size; b++)
                TEST_ASSERT (buf[b] == 0);
            for (size_t b = size; b < sizeof buf; b++)
                TEST_ASSERT (buf[b] == FILL);
        }
    }
    for (size_t i = 0; i < sizeof stored_ints / sizeof *stored_ints; i++) {
        for (size_t size = 0; size <= 16; size++) {
            unsigned char buf[32];
            memset (buf, FILL, sizeof buf);
            size_t len = size;
            int rc = zmq_getsockopt (s, stored_ints[i], buf, &len);
            if (size != sizeof (int)) {
                TEST_ASSERT (rc == -1 && errno == EINVAL && len == size);
                for (size_t b = 0; b < sizeof buf; b++)
                    TEST_ASSERT (buf[b] == FILL);
                continue;
            }
            TEST_ASSERT (rc == 0 && len == sizeof (int));
        }
    }

    /*  The example from the issue: ZMQ_RCVMORE into a 64-bit variable reads as 0 or 1.  */
    int64_t more = -1;
    size_t more_len = sizeof more;
    TEST_OK (zmq_getsockopt (s, ZMQ_RCVMORE, &more, &more_len));
    TEST_ASSERT (more == 0 && more_len == sizeof (int));

    if (zmq_has ("curve")) {
        char pub[41], sec[41];
        TEST_OK (zmq_curve_keypair (pub, sec));
        TEST_OK (zmq_setsockopt (s, ZMQ_CURVE_SERVER, &(int){1}, sizeof (int)));
        TEST_OK (zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, sec, 40));
        TEST_OK (zmq_setsockopt (s, ZMQ_CURVE_PUBLICKEY, pub, 40));
        const struct opt key = {ZMQ_CURVE_PUBLICKEY, "ZMQ_CURVE_PUBLICKEY", KEY, 0};
        for (size_t size = 0; size <= 64; size++) {
            unsigned char buf[300];
            memset (buf, FILL, sizeof buf);
            size_t len = size;
            int rc = zmq_getsockopt (s, key.option, buf, &len);
            if (size != 32 && size != 41) {
                TEST_ASSERT (rc == -1 && errno == EINVAL && len == size);
                continue;
            }
            TEST_ASSERT (rc == 0 && len == size);
            if (size == 41)
                TEST_ASSERT (memcmp (buf, pub, 41) == 0);
            for (size_t b = size; b < sizeof buf; b++)
                TEST_ASSERT (buf[b] == FILL);
        }
    }

    TEST_OK (zmq_close (s));
    TEST_OK (zmq_ctx_term (ctx));
    return 0;
}
