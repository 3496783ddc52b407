/*
 * msgpack.c - libFuzzer target: the MessagePack reader (value_msgpack.c)
 * that a client using socket.io-msgpack-parser reaches with every
 * message, through sio_decode_msgpack, and that reads what other servers
 * publish through an adapter.  Every input goes to the three entry points:
 * value_msgpack_parse, value_msgpack_parse_map and sio_decode_msgpack.
 *
 * Invariants: what parses, written back as the host writes it
 * (value_msgpack_write, sio_encode_msgpack), parses again and is written
 * back to the same bytes; the map walk agrees with the whole parse on
 * whether the bytes are a map, and on its members.
 */
#include "fuzz.h"

#include "base/value.h"
#include "base/value_msgpack.h"
#include "protocol/sio_packet.h"

static void write_value(json_object *j, bool undefined, buf *out)
{
    /* notepack's undefined has no writer: the host never sends one. */
    FUZZ_CHECK(!undefined || !j);
    FUZZ_CHECK(value_msgpack_write(out, j, NULL, 0));
}

static void value_round_trip(const uint8_t *data, size_t size)
{
    json_object *j = NULL;
    bool undefined = false;
    int rc = value_msgpack_parse(data, size, VALUE_MAX_DEPTH, &j, &undefined);
    FUZZ_CHECK(rc == VMP_OK || rc == VMP_EMALFORMED || rc == VMP_EDEPTH);
    if (rc != VMP_OK) {
        FUZZ_CHECK(!j);
        return;
    }
    if (undefined) {
        FUZZ_CHECK(!j);
        return;
    }
    buf first = BUF_INIT, second = BUF_INIT;
    write_value(j, false, &first);
    json_object *again = NULL;
    bool undefined2 = false;
    rc = value_msgpack_parse(first.data, first.len, VALUE_MAX_DEPTH, &again, &undefined2);
    if (rc != VMP_OK)
        fprintf(stderr, "written back as %zu bytes, which do not parse: %d\n", first.len, rc);
    FUZZ_CHECK(rc == VMP_OK);
    FUZZ_CHECK(!undefined2 && !again == !j);
    write_value(again, false, &second);
    FUZZ_CHECK(first.len == second.len && memcmp(first.data, second.data, first.len) == 0);
    json_object_put(again);
    json_object_put(j);
    buf_free(&first);
    buf_free(&second);
}

static int count_member(void *ud, const char *key, json_object *value, bool undefined)
{
    FUZZ_CHECK(key);
    FUZZ_CHECK(!undefined || !value);
    (*(size_t *)ud)++;
    json_object_put(value);
    return 0;
}

static void map_walk(const uint8_t *data, size_t size)
{
    size_t n = 0;
    int rc = value_msgpack_parse_map(data, size, VALUE_MAX_DEPTH, count_member, &n);
    FUZZ_CHECK(rc == VMP_OK || rc == VMP_EMALFORMED || rc == VMP_EDEPTH || rc == VMP_ENOMEM);
    if (rc != VMP_OK)
        return;
    /* A map the walk read whole parses whole, as an object; its member
     * count can only shrink (a repeated key keeps the last value). */
    json_object *j = NULL;
    bool undefined = false;
    FUZZ_CHECK(value_msgpack_parse(data, size, VALUE_MAX_DEPTH, &j, &undefined) == VMP_OK);
    FUZZ_CHECK(json_object_is_type(j, json_type_object));
    FUZZ_CHECK((size_t)json_object_object_length(j) <= n);
    json_object_put(j);
}

static void sio_round_trip(const uint8_t *data, size_t size)
{
    sio_packet p;
    int rc = sio_decode_msgpack(data, size, &p);
    FUZZ_CHECK(sio_strerror(rc) != NULL);
    if (rc != SIO_DONE) {
        FUZZ_CHECK(rc < 0 && !p.nsp && !p.data);
        return;
    }
    /* Any clean string is a namespace here, "/"-less too, as
     * socket.io-msgpack-parser lets it through (the text form cannot
     * spell one); the namespace lookup refuses what it does not know. */
    FUZZ_CHECK(p.type <= SIO_CONNECT_ERROR && p.nsp && p.id >= -1);
    buf first = BUF_INIT, second = BUF_INIT;
    FUZZ_CHECK(sio_encode_msgpack(&first, p.type, p.nsp, p.id, p.data, p.has_data, NULL, 0));
    sio_packet again;
    rc = sio_decode_msgpack(first.data, first.len, &again);
    if (rc != SIO_DONE)
        fprintf(stderr, "re-decoding: %s\n", sio_strerror(rc));
    FUZZ_CHECK(rc == SIO_DONE);
    FUZZ_CHECK(sio_encode_msgpack(&second, again.type, again.nsp, again.id, again.data,
                                  again.has_data, NULL, 0));
    FUZZ_CHECK(first.len == second.len && memcmp(first.data, second.data, first.len) == 0);
    sio_packet_free(&again);
    sio_packet_free(&p);
    buf_free(&first);
    buf_free(&second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    value_round_trip(data, size);
    map_walk(data, size);
    sio_round_trip(data, size);
    return 0;
}
