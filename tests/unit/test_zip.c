/*
 * zip: which encoding a polling response gets for an Accept-Encoding
 * header (engine.io's choice through the `accepts` package), and that
 * what zip_compress makes inflates back, in each of its three formats.
 */
#include <criterion/criterion.h>

#include "zip.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const config_compression defaults = {true, 1024, -1, 8, 15};

Test(zip, picks_the_encoding_engineio_would)
{
    cr_assert_eq(zip_accepted(NULL), ZIP_NONE);
    cr_assert_eq(zip_accepted(""), ZIP_NONE);
    cr_assert_eq(zip_accepted("identity"), ZIP_NONE);
    cr_assert_eq(zip_accepted("br"), ZIP_NONE);
    cr_assert_eq(zip_accepted("gzip"), ZIP_GZIP);
    cr_assert_eq(zip_accepted("GZip"), ZIP_GZIP);
    cr_assert_eq(zip_accepted("deflate"), ZIP_DEFLATE);
    cr_assert_eq(zip_accepted("gzip, deflate, br"), ZIP_GZIP);
    cr_assert_eq(zip_accepted("*"), ZIP_GZIP);
    /* Equal q: the header's order decides, as in negotiator. */
    cr_assert_eq(zip_accepted("deflate, gzip"), ZIP_DEFLATE);
    cr_assert_eq(zip_accepted("gzip;q=0.5, deflate"), ZIP_DEFLATE);
    cr_assert_eq(zip_accepted("gzip;q=0, deflate;q=0"), ZIP_NONE);
    cr_assert_eq(zip_accepted("gzip;q=0, *"), ZIP_DEFLATE);
    cr_assert_eq(zip_accepted("br;q=1.0, gzip;q=0.8, *;q=0.1"), ZIP_GZIP);
    cr_assert_eq(zip_accepted(" gzip ; q=0.9 ,deflate;q=1"), ZIP_DEFLATE);
    cr_assert_eq(zip_accepted("*;q=0"), ZIP_NONE);
}

static void inflate_all(int window_bits, const buf *in, const char *expect, size_t expect_len,
                        bool add_trailer)
{
    z_stream z = {0};
    cr_assert_eq(inflateInit2(&z, window_bits), Z_OK);
    buf src = BUF_INIT;
    buf_append(&src, in->data, in->len);
    if (add_trailer)
        buf_append(&src, "\0\0\xff\xff", 4);
    char *out = malloc(expect_len + 16);
    z.next_in = (Bytef *)src.data;
    z.avail_in = (uInt)src.len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)(expect_len + 16);
    int rc = inflate(&z, add_trailer ? Z_SYNC_FLUSH : Z_FINISH);
    cr_assert(rc == Z_STREAM_END || (add_trailer && rc == Z_OK), "inflate: %d", rc);
    cr_assert_eq(z.total_out, expect_len);
    cr_assert_eq(memcmp(out, expect, expect_len), 0);
    inflateEnd(&z);
    free(out);
    buf_free(&src);
}

Test(zip, compresses_in_each_format_and_inflates_back)
{
    buf text = BUF_INIT;
    for (int i = 0; i < 400; i++)
        buf_printf(&text, "{\"id\":%d,\"name\":\"user-%d\",\"online\":true},", i, i * 7);
    buf out = BUF_INIT;
    cr_assert(zip_compress(ZIP_GZIP, &defaults, text.data, text.len, &out));
    cr_assert_lt(out.len, text.len / 4);
    cr_assert_eq((unsigned char)out.data[0], 0x1f); /* gzip magic */
    inflate_all(15 + 16, &out, text.data, text.len, false);
    buf_clear(&out);
    cr_assert(zip_compress(ZIP_DEFLATE, &defaults, text.data, text.len, &out));
    inflate_all(15, &out, text.data, text.len, false);
    /* Messages: twice, each inflatable alone (no context carried over). */
    for (int round = 0; round < 2; round++) {
        buf_clear(&out);
        cr_assert(zip_compress(ZIP_MESSAGE, &defaults, text.data, text.len, &out));
        cr_assert_neq(memcmp(out.data + out.len - 4, "\0\0\xff\xff", 4), 0);
        inflate_all(-15, &out, text.data, text.len, true);
    }
    /* New settings set the deflater up again; appending keeps what was there. */
    config_compression small = {true, 0, 1, 1, 9};
    buf_clear(&out);
    buf_append(&out, "head", 4);
    cr_assert(zip_compress(ZIP_MESSAGE, &small, "", 0, &out));
    cr_assert(zip_compress(ZIP_MESSAGE, &small, text.data, text.len, &out));
    cr_assert_eq(memcmp(out.data, "head", 4), 0);
    buf_free(&out);
    buf_free(&text);
    zip_shutdown();
}
