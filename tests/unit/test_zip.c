/*
 * zip: which encoding a polling response gets for an Accept-Encoding
 * header (engine.io's choice through the `accepts` package), and that
 * what zip_compress makes inflates back, in each of its three formats.
 */
#include <criterion/criterion.h>

#include "engineio/zip.h"

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

/* ---- ws_inflate: what clients send compressed --------------------------- */

#include "engineio/ws_deflate.h"

/* A client's compressor: one stream for a connection (context takeover). */
static void client_deflate(z_stream *z, const char *text, buf *out)
{
    buf_clear(out);
    buf_reserve(out, strlen(text) + 64);
    z->next_in = (Bytef *)text;
    z->avail_in = (uInt)strlen(text);
    z->next_out = (Bytef *)out->data;
    z->avail_out = (uInt)(out->cap - 1);
    cr_assert_eq(deflate(z, Z_SYNC_FLUSH), Z_OK);
    out->len = out->cap - 1 - z->avail_out - 4; /* without 00 00 ff ff */
}

Test(zip, inflates_messages_that_refer_to_earlier_ones)
{
    z_stream z = {0};
    cr_assert_eq(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    ws_inflater *zi = NULL;
    buf wire = BUF_INIT, out = BUF_INIT;
    const char *msg = "42[\"hello\",{\"who\":\"world\",\"again\":\"hello world hello world\"}]";
    for (int i = 0; i < 3; i++) {
        client_deflate(&z, msg, &wire);
        buf_clear(&out);
        /* In two pieces, as lws hands them over. */
        size_t half = wire.len / 2;
        cr_assert_eq(ws_inflate(&zi, wire.data, half, false, &out, 1000), WS_INFLATE_OK);
        cr_assert_eq(ws_inflate(&zi, wire.data + half, wire.len - half, true, &out, 1000),
                     WS_INFLATE_OK);
        cr_assert_str_eq(out.data, msg);
    }
    deflateEnd(&z);
    ws_inflater_free(&zi);
    cr_assert_null(zi);
    buf_free(&wire);
    buf_free(&out);
}

Test(zip, stops_inflating_at_the_limit_and_refuses_garbage)
{
    /* 10 MB of zeros: about 10 KB compressed. */
    size_t big = 10u << 20;
    char *zeros = calloc(1, big + 1);
    memset(zeros, '0', big);
    z_stream z = {0};
    cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    buf wire = BUF_INIT, out = BUF_INIT;
    client_deflate(&z, zeros, &wire);
    cr_assert_lt(wire.len, 20000);
    ws_inflater *zi = NULL;
    cr_assert_eq(ws_inflate(&zi, wire.data, wire.len, true, &out, 100000), WS_INFLATE_TOO_BIG);
    cr_assert_leq(out.len, 100001);
    cr_assert_lt(out.cap, 200000);
    ws_inflater_free(&zi);
    buf_clear(&out);
    cr_assert_eq(ws_inflate(&zi, "\xff\xff\xff\xff", 4, true, &out, 1000), WS_INFLATE_CORRUPT);
    ws_inflater_free(&zi);
    deflateEnd(&z);
    free(zeros);
    buf_free(&wire);
    buf_free(&out);
}
