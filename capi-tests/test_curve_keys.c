/*  zmq_curve_keypair and zmq_curve_public: Z85 keys of 40 characters, the public key
    derived from the secret as libzmq derives it (the fixed pairs are zmq_curve(7)'s
    examples, which Debian's libzmq reproduces with -DLIBZMQ_REFERENCE), bad input.  */
#include "testutil.h"

static const char *pairs[][2] = {
    /*  public, secret  */
    {"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID", "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"},
    {"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"},
};

static void assert_z85_key (const char *text)
{
    uint8_t raw[32];
    TEST_ASSERT (strlen (text) == 40);
    TEST_ASSERT (zmq_z85_decode (raw, text) == raw);
}

static void test_known_pairs (void)
{
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char public_key[41];
        memset (public_key, 'x', sizeof public_key);
        TEST_ASSERT (zmq_curve_public (public_key, pairs[i][1]) == 0);
        TEST_ASSERT (strcmp (public_key, pairs[i][0]) == 0);
    }
}

static void test_keypair (void)
{
    char public_key[41], secret_key[41], derived[41], first_secret[41];
    for (int round = 0; round < 20; round++) {
        memset (public_key, 'x', sizeof public_key);
        memset (secret_key, 'x', sizeof secret_key);
        TEST_ASSERT (zmq_curve_keypair (public_key, secret_key) == 0);
        assert_z85_key (public_key);
        assert_z85_key (secret_key);
        TEST_ASSERT (strcmp (public_key, secret_key) != 0);
        /*  The public half is the one derived from the secret half.  */
        TEST_ASSERT (zmq_curve_public (derived, secret_key) == 0);
        TEST_ASSERT (strcmp (derived, public_key) == 0);
        /*  Fresh every time.  */
        if (round == 0)
            strcpy (first_secret, secret_key);
        else
            TEST_ASSERT (strcmp (first_secret, secret_key) != 0);
    }
}

static void test_bad_secret (void)
{
    char public_key[41];
    /*  Not Z85, or not a multiple of 5 characters.  */
    TEST_FAIL (zmq_curve_public (public_key, "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%c "),
                       EINVAL);
    TEST_FAIL (zmq_curve_public (public_key, "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%c"),
                       EINVAL);
    TEST_FAIL (zmq_curve_public (public_key, ""), EINVAL);
#ifndef LIBZMQ_REFERENCE
    /*  Whole Z85 but not 32 bytes: libzmq decodes short of or past its buffer; we refuse.
        NULL buffers: libzmq crashes; we set EFAULT.  */
    TEST_FAIL (zmq_curve_public (public_key, "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%"),
                       EINVAL);
    TEST_FAIL (
      zmq_curve_public (public_key, "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%csHello"), EINVAL);
    TEST_FAIL (zmq_curve_public (NULL, pairs[0][1]), EFAULT);
    TEST_FAIL (zmq_curve_public (public_key, NULL), EFAULT);
    TEST_FAIL (zmq_curve_keypair (NULL, public_key), EFAULT);
    TEST_FAIL (zmq_curve_keypair (public_key, NULL), EFAULT);
#endif
}

int main (void)
{
    test_setup (30);
    test_known_pairs ();
    test_keypair ();
    test_bad_secret ();
    return 0;
}
