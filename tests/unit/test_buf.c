/*
 * test_buf.c - the growable byte buffer (host/base/buf.c): what the rest of the
 * host relies on - bytes kept in order across growth, always
 * NUL-terminated, printf output of any length, and steal handing the
 * memory over.
 */
#include "base/buf.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

Test(buf, starts_empty_without_memory)
{
    buf b = BUF_INIT;
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    cr_assert_not(b.failed);
    buf_free(&b);
}

Test(buf, append_keeps_bytes_in_order_and_terminates)
{
    buf b = BUF_INIT;
    buf_append(&b, "abc", 3);
    buf_append_str(&b, "def");
    buf_append_char(&b, 'g');
    cr_assert_eq(b.len, 7);
    cr_assert_str_eq(b.data, "abcdefg");
    cr_assert_eq(b.data[b.len], '\0');
    buf_free(&b);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
}

Test(buf, append_keeps_embedded_nul_bytes)
{
    buf b = BUF_INIT;
    buf_append(&b, "a\0b", 3);
    cr_assert_eq(b.len, 3);
    cr_assert_eq(memcmp(b.data, "a\0b", 4), 0); /* 3 bytes and the terminator */
    buf_free(&b);
}

Test(buf, grows_across_many_appends_without_losing_bytes)
{
    buf b = BUF_INIT;
    for (int i = 0; i < 100000; i++)
        buf_append_char(&b, (char)('a' + i % 26));
    cr_assert_eq(b.len, 100000);
    cr_assert_geq(b.cap, b.len + 1);
    cr_assert_not(b.failed);
    for (int i = 0; i < 100000; i++)
        cr_assert_eq(b.data[i], (char)('a' + i % 26), "byte %d", i);
    cr_assert_eq(b.data[b.len], '\0');
    buf_free(&b);
}

Test(buf, append_of_zero_bytes_gives_an_empty_string)
{
    buf b = BUF_INIT;
    buf_append(&b, NULL, 0);
    cr_assert_not_null(b.data);
    cr_assert_str_eq(b.data, "");
    cr_assert_eq(b.len, 0);
    buf_free(&b);
}

Test(buf, printf_formats_short_output)
{
    buf b = BUF_INIT;
    buf_append_str(&b, "n=");
    buf_printf(&b, "%d,%s", 42, "x");
    cr_assert_str_eq(b.data, "n=42,x");
    cr_assert_eq(b.len, 6);
    buf_free(&b);
}

Test(buf, printf_formats_output_longer_than_its_scratch_space)
{
    char big[5000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    buf b = BUF_INIT;
    buf_append_str(&b, "<");
    buf_printf(&b, "%s|%d", big, 7);
    buf_append_str(&b, ">");
    cr_assert_eq(b.len, 1 + 4999 + 2 + 1);
    cr_assert_eq(b.data[0], '<');
    cr_assert_eq(memcmp(b.data + 1, big, 4999), 0);
    cr_assert_str_eq(b.data + 1 + 4999, "|7>");
    buf_free(&b);
}

Test(buf, reserve_provides_room_without_changing_contents)
{
    buf b = BUF_INIT;
    buf_append_str(&b, "hi");
    cr_assert(buf_reserve(&b, 1000));
    cr_assert_geq(b.cap, 2 + 1000 + 1);
    cr_assert_str_eq(b.data, "hi");
    cr_assert_eq(b.len, 2);
    buf_free(&b);
}

Test(buf, reserve_of_an_impossible_size_fails_and_sticks)
{
    buf b = BUF_INIT;
    buf_append_str(&b, "x");
    cr_assert_not(buf_reserve(&b, SIZE_MAX - 1));
    cr_assert(b.failed);
    buf_append_str(&b, "more");
    cr_assert_eq(b.len, 1, "appends after a failure do nothing");
    cr_assert_not(buf_reserve(&b, 1));
    buf_free(&b);
    cr_assert_not(b.failed, "buf_free resets the buffer");
}

Test(buf, clear_empties_but_keeps_memory)
{
    buf b = BUF_INIT;
    buf_append_str(&b, "hello");
    char *mem = b.data;
    size_t cap = b.cap;
    buf_clear(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(b.data, "");
    cr_assert_eq(b.data, mem);
    cr_assert_eq(b.cap, cap);
    buf_append_str(&b, "again");
    cr_assert_str_eq(b.data, "again");
    buf_free(&b);
}

Test(buf, clear_on_an_empty_buffer_is_harmless)
{
    buf b = BUF_INIT;
    buf_clear(&b);
    cr_assert_eq(b.len, 0);
    buf_free(&b);
}

Test(buf, steal_hands_over_bytes_and_resets)
{
    buf b = BUF_INIT;
    buf_append_str(&b, "payload");
    size_t len = 0;
    char *p = buf_steal(&b, &len);
    cr_assert_str_eq(p, "payload");
    cr_assert_eq(len, 7);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, 0);
    /* The buffer is reusable and independent of the stolen memory. */
    buf_append_str(&b, "next");
    cr_assert_str_eq(p, "payload");
    cr_assert_str_eq(b.data, "next");
    free(p);
    buf_free(&b);
}

Test(buf, steal_of_an_empty_buffer_gives_an_empty_string)
{
    buf b = BUF_INIT;
    size_t len = 99;
    char *p = buf_steal(&b, &len);
    cr_assert_not_null(p);
    cr_assert_str_eq(p, "");
    cr_assert_eq(len, 0);
    free(p);
    cr_assert_null(b.data);
}

Test(buf, steal_accepts_a_null_length)
{
    buf b = BUF_INIT;
    buf_append_str(&b, "x");
    char *p = buf_steal(&b, NULL);
    cr_assert_str_eq(p, "x");
    free(p);
}
