/*
 * test_utf8.c - the host's UTF-8 validator (host/base/utf8.c): RFC 3629's
 * boundaries one by one, then every sequence of up to three bytes, and
 * four-byte ones around their limits, against a reference decoder that
 * computes code points (utf8.c never does); and invalid bytes at every
 * offset of ASCII text, where the eight-byte ASCII skip is.
 */
#include "base/utf8.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#define VALID(lit) cr_assert(utf8_valid(lit, sizeof lit - 1), "%s", #lit)
#define INVALID(lit) cr_assert_not(utf8_valid(lit, sizeof lit - 1), "%s", #lit)

/* The reference: decode each sequence to its code point, then check it. */
static bool reference_valid(const unsigned char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i], cp, min;
        size_t n;
        if (c < 0x80)
            n = 0, min = 0, cp = c;
        else if ((c & 0xe0) == 0xc0)
            n = 1, min = 0x80, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0)
            n = 2, min = 0x800, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0)
            n = 3, min = 0x10000, cp = c & 0x07;
        else
            return false;
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

Test(utf8, accepts_each_range_at_its_boundaries)
{
    VALID("");
    VALID("plain ascii");
    cr_assert(utf8_valid("\0", 1), "U+0000 is valid");
    VALID("\x7f");             /* last 1-byte */
    VALID("\xc2\x80");         /* U+0080, first 2-byte */
    VALID("\xdf\xbf");         /* U+07FF, last 2-byte */
    VALID("\xe0\xa0\x80");     /* U+0800, first 3-byte */
    VALID("\xed\x9f\xbf");     /* U+D7FF, just below the surrogates */
    VALID("\xee\x80\x80");     /* U+E000, just above them */
    VALID("\xef\xbf\xbf");     /* U+FFFF */
    VALID("\xf0\x90\x80\x80"); /* U+10000, first 4-byte */
    VALID("\xf4\x8f\xbf\xbf"); /* U+10FFFF, the last code point */
    VALID("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80!");
}

Test(utf8, refuses_overlong_forms)
{
    INVALID("\xc0\x80");         /* NUL in two bytes */
    INVALID("\xc1\xbf");         /* U+007F in two bytes */
    INVALID("\xe0\x80\xaf");     /* '/' in three bytes */
    INVALID("\xe0\x9f\xbf");     /* U+07FF in three bytes */
    INVALID("\xf0\x80\x80\xaf"); /* '/' in four bytes */
    INVALID("\xf0\x8f\xbf\xbf"); /* U+FFFF in four bytes */
}

Test(utf8, refuses_surrogates)
{
    INVALID("\xed\xa0\x80");             /* U+D800 */
    INVALID("\xed\xbf\xbf");             /* U+DFFF */
    INVALID("\xed\xa0\xbd\xed\xb8\x80"); /* a pair, as CESU-8 writes U+1F600 */
}

Test(utf8, refuses_code_points_above_10ffff_and_longer_forms)
{
    INVALID("\xf4\x90\x80\x80"); /* U+110000 */
    INVALID("\xf5\x80\x80\x80");
    INVALID("\xf7\xbf\xbf\xbf");
    INVALID("\xf8\x88\x80\x80\x80");     /* a 5-byte form */
    INVALID("\xfc\x84\x80\x80\x80\x80"); /* a 6-byte form */
    INVALID("\xfe");
    INVALID("\xff");
}

Test(utf8, refuses_truncated_and_broken_sequences)
{
    INVALID("\xc3");
    INVALID("\xe2\x82");
    INVALID("\xf0\x9f\x98");
    INVALID("abc\xf0\x9f\x98");  /* cut by the end after ASCII */
    INVALID("\xe2\x82" "a");     /* cut by an ASCII byte */
    INVALID("\xf0\x9f" "\xc3\xa9");
    INVALID("\x80");             /* a lone continuation byte */
    INVALID("\xc3\xa9\xa9");     /* one continuation too many */
}

Test(utf8, agrees_with_the_reference_on_every_sequence_up_to_three_bytes)
{
    unsigned char s[3];
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        cr_assert_eq(utf8_valid((char *)s, 1), reference_valid(s, 1), "%02x", a);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            cr_assert_eq(utf8_valid((char *)s, 2), reference_valid(s, 2), "%02x %02x", a, b);
            if (a < 0xe0 || a > 0xef)
                continue; /* three bytes matter only after a 3-byte lead */
            for (unsigned c = 0; c < 256; c++) {
                s[2] = (unsigned char)c;
                if (utf8_valid((char *)s, 3) != reference_valid(s, 3))
                    cr_assert_fail("%02x %02x %02x", a, b, c);
            }
        }
    }
}

Test(utf8, agrees_with_the_reference_on_four_byte_sequences)
{
    static const unsigned char tails[] = {0x00, 0x7f, 0x80, 0x8f, 0x90, 0xbf, 0xc0, 0xff};
    unsigned char s[4];
    for (unsigned a = 0xf0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            for (size_t i = 0; i < sizeof tails; i++) {
                for (size_t j = 0; j < sizeof tails; j++) {
                    s[0] = (unsigned char)a, s[1] = (unsigned char)b;
                    s[2] = tails[i], s[3] = tails[j];
                    if (utf8_valid((char *)s, 4) != reference_valid(s, 4))
                        cr_assert_fail("%02x %02x %02x %02x", a, b, s[2], s[3]);
                }
            }
        }
    }
}

Test(utf8, finds_a_bad_byte_at_any_offset_of_ascii_text)
{
    static const char *const bad[] = {"\xff", "\x80", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80"};
    char text[40];
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        size_t n = strlen(bad[k]);
        for (size_t at = 0; at + n <= sizeof text; at++) {
            memset(text, 'a', sizeof text);
            memcpy(text + at, bad[k], n);
            cr_assert_not(utf8_valid(text, sizeof text), "bad %zu at %zu", k, at);
        }
    }
    /* Valid sequences across every eight-byte boundary. */
    for (size_t at = 0; at + 4 <= sizeof text; at++) {
        memset(text, 'a', sizeof text);
        memcpy(text + at, "\xf0\x9f\x98\x80", 4);
        cr_assert(utf8_valid(text, sizeof text), "U+1F600 at %zu", at);
        cr_assert_not(utf8_valid(text, at + 3), "cut U+1F600 at %zu", at);
    }
}

/* utf8_sequence: the one character at the start, by the same rules. */
Test(utf8, sequence_measures_the_first_character_or_gives_0)
{
    cr_assert_eq(utf8_sequence("a", 1), 1);
    cr_assert_eq(utf8_sequence("\xc3\xa9x", 3), 2);
    cr_assert_eq(utf8_sequence("\xe2\x82\xac", 3), 3);
    cr_assert_eq(utf8_sequence("\xf0\x9f\x98\x80", 4), 4);
    cr_assert_eq(utf8_sequence("", 0), 0);
    cr_assert_eq(utf8_sequence("\x80", 1), 0, "a continuation byte");
    cr_assert_eq(utf8_sequence("\xc0\xaf", 2), 0, "overlong");
    cr_assert_eq(utf8_sequence("\xed\xa0\x80", 3), 0, "a surrogate");
    cr_assert_eq(utf8_sequence("\xf4\x90\x80\x80", 4), 0, "past U+10FFFF");
    cr_assert_eq(utf8_sequence("\xe2\x82\xac", 2), 0, "cut short by len");
    cr_assert_eq(utf8_sequence("\xe2\x28\xa1", 3), 0, "a broken continuation");
}
