// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The snapshot state file parser (src/vmm/vstate/snapshot_file.c), the
 * first thing a restore reads. Input: u8 mode, then the file. Mode bit 0
 * set: the harness writes a correct checksum over the file first, so the
 * fuzzer gets past it to the header fields and sections.
 *
 * Beyond the sanitizers: an accepted file's sections lie inside it, each
 * (type, instance) once, findable by snap_find, a virtio device's section
 * (snapshot_virtio.c) parses within its bounds or is refused with a reason, and written again by the
 * writer from what was parsed they give the same bytes (one encoding per
 * state: nothing in an accepted file is ignored); a refusal names a reason
 * and keeps nothing. The same bytes as ELF notes: a build ID found lies
 * within them (the sanitizers check the walk).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "vstate/snapshot_file.h"
#include "vstate/snapshot_virtio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void refix_crc(uint8_t *buf, size_t len)
{
	static const uint8_t zero[4];
	uint32_t crc;

	if (len < SNAP_HEADER_SIZE)
		return;
	crc = snap_crc32c(0, buf, 48);
	crc = snap_crc32c(crc, zero, 4);
	crc = snap_crc32c(crc, buf + 52, len - 52);
	memcpy(buf + 48, &crc, 4);
}

/* A virtio device's section: accepted, its own state is the section's
 * tail and every field is within its bounds; refused, with a reason. */
static void check_virtio(const struct snap_section *sec)
{
	struct snap_virtio v;
	const char *why = NULL;

	if (snap_virtio_parse(sec->data, sec->len, &v, &why)) {
		CHECK(why && *why, "virtio section refused without a reason");
		return;
	}
	CHECK(v.own + v.own_len == sec->data + sec->len, "own state not the section's tail");
	CHECK(v.nr_queues >= 1 && v.nr_queues <= VIRTIO_MAX_QUEUES, "queue count %u",
	      v.nr_queues);
	CHECK(!(v.driver_features & ~v.features), "features not offered accepted");
	for (uint32_t i = 0; i < v.nr_queues; i++)
		CHECK(v.q[i].num <= VIRTQ_MAX_SIZE && !(v.q[i].num & (v.q[i].num - 1)) &&
		      (!v.q[i].ready || v.q[i].num), "queue %u of size %u", i, v.q[i].num);
}

static void check_accepted(const uint8_t *buf, size_t len, const struct snap_state *st)
{
	struct snap_writer w;
	uint8_t *again;
	size_t again_len;

	snap_writer_init(&w, &st->info);
	for (uint32_t i = 0; i < st->nr_sec; i++) {
		const struct snap_section *s = &st->sec[i];

		CHECK(s->data >= buf + SNAP_HEADER_SIZE && s->len <= SNAP_MAX_SECTION &&
		      (size_t)(s->data - buf) + s->len <= len, "section %u outside the file", i);
		CHECK(snap_find(st, s->type, s->instance) == s, "section %u not unique", i);
		if (s->type == SNAP_SEC_DEVICE && s->instance >= SNAP_DEV_VIRTIO(0))
			check_virtio(s);
		snap_add(&w, s->type, s->instance, s->data, s->len);
	}
	CHECK(snap_finish(&w, &again, &again_len) == 0, "an accepted state does not write");
	CHECK(again_len == len && !memcmp(again, buf, len), "accepted file not canonical");
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_state st;
	const char *why = NULL;
	uint8_t *buf;
	size_t len;
	int err;

	if (size < 1)
		return 0;
	len = size - 1;
	buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	if (data[0] & 1)
		refix_crc(buf, len);
	err = snap_parse(buf, len, &st, &why);
	if (err == 0) {
		check_accepted(buf, len, &st);
		snap_state_free(&st);
	} else {
		CHECK(err < 0 && why && *why, "refusal %d without a reason", err);
		CHECK(st.sec == NULL && st.nr_sec == 0, "refusal kept sections");
	}
	/* The same bytes as a kernel's ELF notes (the guest's identity). */
	uint8_t id[SNAP_BUILD_ID_MAX];
	size_t id_len = snap_find_build_id(buf, len, id);
	CHECK(id_len <= SNAP_BUILD_ID_MAX, "build ID of %zu bytes", id_len);
	free(buf);
	return 0;
}
