/*  Z85 (RFC 32): zmq_z85_encode and zmq_z85_decode, including their failures.  */
#include "testutil.h"

static const uint8_t hello[8] = {0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B};

static void test_rfc_vector (void)
{
    char text[11];
    memset (text, 'x', sizeof text);
    TEST_ASSERT (zmq_z85_encode (text, hello, 8) == text);
    TEST_ASSERT (strcmp (text, "HelloWorld") == 0);

    uint8_t bytes[8];
    TEST_ASSERT (zmq_z85_decode (bytes, "HelloWorld") == bytes);
    TEST_ASSERT (memcmp (bytes, hello, 8) == 0);
}

static void test_extremes (void)
{
    char text[6];
    uint8_t zeros[4] = {0, 0, 0, 0}, ones[4] = {0xff, 0xff, 0xff, 0xff}, out[4];
    TEST_ASSERT (zmq_z85_encode (text, zeros, 4) == text);
    TEST_ASSERT (strcmp (text, "00000") == 0);
    TEST_ASSERT (zmq_z85_encode (text, ones, 4) == text);
    TEST_ASSERT (strcmp (text, "%nSc0") == 0);
    TEST_ASSERT (zmq_z85_decode (out, "%nSc0") == out);
    TEST_ASSERT (memcmp (out, ones, 4) == 0);

    /*  Nothing to encode gives the empty string.  */
    memset (text, 'x', sizeof text);
    TEST_ASSERT (zmq_z85_encode (text, zeros, 0) == text);
    TEST_ASSERT (text[0] == 0);
}

static void test_round_trip (void)
{
    uint8_t data[256], back[256];
    char text[321];
    for (int i = 0; i < 256; i++)
        data[i] = (uint8_t) (i * 7 + 3);
    for (size_t len = 4; len <= sizeof data; len += 4) {
        memset (text, 'x', sizeof text);
        TEST_ASSERT (zmq_z85_encode (text, data, len) == text);
        TEST_ASSERT (strlen (text) == len * 5 / 4);
        memset (back, 0, sizeof back);
        TEST_ASSERT (zmq_z85_decode (back, text) == back);
        TEST_ASSERT (memcmp (back, data, len) == 0);
    }
}

static void test_curve_key (void)
{
    /*  The man page's example key.  */
    const char *key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    uint8_t raw[32];
    char again[41];
    TEST_ASSERT (zmq_z85_decode (raw, key) == raw);
    TEST_ASSERT (zmq_z85_encode (again, raw, 32) == again);
    TEST_ASSERT (strcmp (again, key) == 0);
}

static void test_encode_bad_size (void)
{
    char text[16];
    for (size_t size = 1; size < 12; size++) {
        if (size % 4 == 0)
            continue;
        errno = 0;
        TEST_ASSERT (zmq_z85_encode (text, hello, size) == NULL);
        TEST_ASSERT (errno == EINVAL);
    }
}

static void test_decode_bad_length (void)
{
    const char *bad[] = {"", "H", "Hell", "HelloW", "HelloWorl", "HelloWorld!"};
    uint8_t out[16];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset (out, 0xaa, sizeof out);
        errno = 0;
        TEST_ASSERT (zmq_z85_decode (out, bad[i]) == NULL);
        TEST_ASSERT (errno == EINVAL);
        TEST_ASSERT (out[0] == 0xaa);
    }
}

static void test_decode_bad_chars (void)
{
    const char bad[] = {' ', '"', '\'', ',', ';', '\\', '_', '`', '|', '~', 0x7f, (char) 0x80,
                        (char) 0xff};
    uint8_t out[8];
    for (size_t i = 0; i < sizeof bad; i++) {
        char text[11] = "HelloWorld";
        text[7] = bad[i];
        memset (out, 0xaa, sizeof out);
        errno = 0;
        TEST_ASSERT (zmq_z85_decode (out, text) == NULL);
        TEST_ASSERT (errno == EINVAL);
        /*  As in libzmq, groups before the bad one are already written.  */
        TEST_ASSERT (memcmp (out, hello, 4) == 0);
        TEST_ASSERT (out[4] == 0xaa);
    }
}

static void test_decode_overflow (void)
{
    uint8_t out[4];
    errno = 0;
    TEST_ASSERT (zmq_z85_decode (out, "%nSc1") == NULL);
    TEST_ASSERT (errno == EINVAL);
    errno = 0;
    TEST_ASSERT (zmq_z85_decode (out, "#####") == NULL);
    TEST_ASSERT (errno == EINVAL);
}

int main (void)
{
    test_setup (30);
    test_rfc_vector ();
    test_extremes ();
    test_round_trip ();
    test_curve_key ();
    test_encode_bad_size ();
    test_decode_bad_length ();
    test_decode_bad_chars ();
    test_decode_overflow ();
    return 0;
}
