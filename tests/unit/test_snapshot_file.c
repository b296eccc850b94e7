// SPDX-License-Identifier: LGPL-2.1-or-later
/* Description: the snapshot state file round-trips, and the parser refuses
 * truncated, bit-flipped, wrong-version, oversized and crafted files (with a
 * valid checksum) each with its own error. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>

#include "vstate/snapshot_file.h"
#include "check_main.h"

#define NR_VCPUS 2
#define MEM_BYTES (64ull << 20)
#define DEV_A_LEN 13  /* not a multiple of 8: padding exercised */

/* Bytes of a section's payload: its type, instance and position, so a
 * section read at the wrong place does not compare equal by chance. */
static void fill(uint8_t *p, uint64_t len, uint32_t type, uint32_t inst)
{
	for (uint64_t i = 0; i < len; i++)
		p[i] = (uint8_t)(type * 31 + inst * 7 + i);
}

static void add_filled(struct snap_writer *w, uint32_t type, uint32_t inst, uint64_t len)
{
	uint8_t *p = malloc(len);
	ck_assert_ptr_nonnull(p);
	fill(p, len, type, inst);
	snap_add(w, type, inst, p, len);
	free(p);
}

static void add_msrs(struct snap_writer *w, uint32_t inst, uint32_t count, uint32_t claimed)
{
	uint64_t len = 8 + (uint64_t)count * 16;
	uint8_t *p = calloc(1, len);
	ck_assert_ptr_nonnull(p);
	memcpy(p, &claimed, 4);
	for (uint32_t i = 0; i < count; i++) {
		uint32_t idx = 0xc0000080 + i;
		uint64_t v = 0x1234 + i;
		memcpy(p + 8 + i * 16, &idx, 4);
		memcpy(p + 8 + i * 16 + 8, &v, 8);
	}
	snap_add(w, SNAP_SEC_VCPU_MSRS, inst, p, len);
	free(p);
}

enum skip { SKIP_NONE, SKIP_XSAVE_1, SKIP_CLOCK };

/* A whole, valid state: NR_VCPUS vCPUs, an irqchip, two devices; `skip`
 * leaves one required section out. */
static void build(struct snap_writer *w, enum skip skip)
{
	struct snap_info info = { .nr_vcpus = NR_VCPUS, .mem_bytes = MEM_BYTES,
				  .kernel_id = 0x0123456789abcdefull, .flags = SNAP_F_IRQCHIP };

	snap_writer_init(w, &info);
	for (uint32_t v = 0; v < NR_VCPUS; v++) {
		add_filled(w, SNAP_SEC_VCPU_REGS, v, sizeof(struct kvm_regs));
		add_filled(w, SNAP_SEC_VCPU_SREGS, v, sizeof(struct kvm_sregs));
		if (!(skip == SKIP_XSAVE_1 && v == 1))
			add_filled(w, SNAP_SEC_VCPU_XSAVE, v, sizeof(struct kvm_xsave));
		add_filled(w, SNAP_SEC_VCPU_XCRS, v, sizeof(struct kvm_xcrs));
		add_msrs(w, v, 5, 5);
		add_filled(w, SNAP_SEC_VCPU_LAPIC, v, sizeof(struct kvm_lapic_state));
		add_filled(w, SNAP_SEC_VCPU_EVENTS, v, sizeof(struct kvm_vcpu_events));
		add_filled(w, SNAP_SEC_VCPU_MPSTATE, v, sizeof(struct kvm_mp_state));
	}
	add_filled(w, SNAP_SEC_VM_PIC_MASTER, 0, sizeof(struct kvm_irqchip));
	add_filled(w, SNAP_SEC_VM_PIC_SLAVE, 0, sizeof(struct kvm_irqchip));
	add_filled(w, SNAP_SEC_VM_IOAPIC, 0, sizeof(struct kvm_irqchip));
	add_filled(w, SNAP_SEC_VM_PIT2, 0, sizeof(struct kvm_pit_state2));
	if (skip != SKIP_CLOCK)
		add_filled(w, SNAP_SEC_VM_CLOCK, 0, sizeof(struct kvm_clock_data));
	add_filled(w, SNAP_SEC_DEVICE, 0, DEV_A_LEN);
	add_filled(w, SNAP_SEC_DEVICE, 3, 200);
}

static uint8_t *good(size_t *len)
{
	struct snap_writer w;
	uint8_t *buf;

	build(&w, SKIP_NONE);
	ck_assert_int_eq(snap_finish(&w, &buf, len), 0);
	return buf;
}

/* Parses and expects err; a refusal always names its reason. */
static void expect(const uint8_t *buf, size_t len, int err, const char *why_part)
{
	struct snap_state st;
	const char *why = NULL;
	int ret = snap_parse(buf, len, &st, &why);

	ck_assert_msg(ret == err, "parse = %d (%s), want %d", ret, why ? why : "-", err);
	if (!ret)
		snap_state_free(&st);
	if (err) {
		ck_assert_ptr_nonnull(why);
		ck_assert_ptr_null(st.sec);
		if (why_part)
			ck_assert_msg(strstr(why, why_part), "reason '%s' lacks '%s'", why, why_part);
	}
}

/* Rewrites the checksum after an edit, as a crafted file would have it. */
static void refix_crc(uint8_t *buf, size_t len)
{
	static const uint8_t zero[4];
	uint32_t crc = snap_crc32c(0, buf, 48);

	crc = snap_crc32c(crc, zero, 4);
	crc = snap_crc32c(crc, buf + 52, len - 52);
	memcpy(buf + 48, &crc, 4);
}

START_TEST(crc32c_vector)
{
	/* The check value of CRC-32C (RFC 3720, B.4 / the catalogue's "check"). */
	ck_assert_uint_eq(snap_crc32c(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(snap_crc32c(snap_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
}
END_TEST

START_TEST(round_trip)
{
	size_t len;
	uint8_t *buf = good(&len);
	struct snap_state st;
	const char *why = NULL;

	ck_assert_uint_eq(len % 8, 0);
	ck_assert_int_eq(snap_parse(buf, len, &st, &why), 0);
	ck_assert_uint_eq(st.info.nr_vcpus, NR_VCPUS);
	ck_assert_uint_eq(st.info.mem_bytes, MEM_BYTES);
	ck_assert_uint_eq(st.info.kernel_id, 0x0123456789abcdefull);
	ck_assert_uint_eq(st.info.flags, SNAP_F_IRQCHIP);
	ck_assert_uint_eq(st.nr_sec, NR_VCPUS * 8 + 5 + 2);

	uint8_t want[4096];
	const struct snap_section *s = snap_find(&st, SNAP_SEC_VCPU_XSAVE, 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->len, sizeof(struct kvm_xsave));
	fill(want, s->len, SNAP_SEC_VCPU_XSAVE, 1);
	ck_assert_mem_eq(s->data, want, s->len);
	s = snap_find(&st, SNAP_SEC_DEVICE, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->len, DEV_A_LEN);
	fill(want, DEV_A_LEN, SNAP_SEC_DEVICE, 0);
	ck_assert_mem_eq(s->data, want, DEV_A_LEN);
	s = snap_find(&st, SNAP_SEC_VCPU_MSRS, 0);
	ck_assert_uint_eq(s->len, 8 + 5 * 16);
	uint64_t v;
	memcpy(&v, s->data + 8 + 4 * 16 + 8, 8);
	ck_assert_uint_eq(v, 0x1234 + 4);
	ck_assert_ptr_null(snap_find(&st, SNAP_SEC_DEVICE, 1));
	ck_assert_ptr_null(snap_find(&st, SNAP_SEC_VCPU_REGS, NR_VCPUS));
	snap_state_free(&st);
	free(buf);
}
END_TEST

START_TEST(truncated)
{
	size_t len;
	uint8_t *buf = good(&len);

	/* Every shorter prefix, in a buffer of its own size (ASan sees any
	 * read past it). Shorter than the magic: not a state file. */
	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, buf, n);
		expect(cut, n, n < SNAP_MAGIC_LEN ? -EINVAL : -EBADMSG,
		       n < SNAP_MAGIC_LEN ? "magic" : "truncated");
		free(cut);
	}
	free(buf);
}
END_TEST

START_TEST(bit_flipped)
{
	size_t len;
	uint8_t *buf = good(&len);

	/* One bit of each header and first-section byte, then of every 37th
	 * byte (each parse checksums the whole file): each flip is refused. */
	for (size_t i = 0; i < len; i += i < 256 ? 1 : 37) {
		struct snap_state st;
		const char *why = NULL;
		uint8_t bit = (uint8_t)(1u << (i % 8));

		buf[i] ^= bit;
		ck_assert_msg(snap_parse(buf, len, &st, &why) < 0, "flip at %zu accepted", i);
		ck_assert_ptr_nonnull(why);
		buf[i] ^= bit;
	}
	/* Past the header, only the checksum can tell. */
	buf[len - 300] ^= 0x10;
	expect(buf, len, -EBADMSG, "checksum");
	free(buf);
}
END_TEST

START_TEST(wrong_version)
{
	size_t len;
	uint8_t *buf = good(&len);
	uint32_t v = SNAP_VERSION + 1;

	memcpy(buf + 8, &v, 4);
	refix_crc(buf, len);
	expect(buf, len, -EPROTONOSUPPORT, "version");
	v = 0;
	memcpy(buf + 8, &v, 4);
	expect(buf, len, -EPROTONOSUPPORT, "version");
	free(buf);
}
END_TEST

START_TEST(oversized)
{
	size_t len;
	uint8_t *buf = good(&len);
	uint8_t *big = calloc(1, SNAP_MAX_FILE + 1);

	memcpy(big, buf, len);
	expect(big, SNAP_MAX_FILE + 1, -EFBIG, "too large");
	/* Within the limit but longer than the header says. */
	expect(big, len + 8, -EBADMSG, "past its end");
	/* A body length near 2^64 does not wrap into range. */
	uint64_t huge = UINT64_MAX - 10;
	memcpy(buf + 40, &huge, 8);
	refix_crc(buf, len);
	expect(buf, len, -EBADMSG, "truncated");
	free(big);
	free(buf);
}
END_TEST

START_TEST(not_a_state_file)
{
	static const uint8_t text[128] = "#!/bin/sh\necho this is not a snapshot\n";

	expect(text, sizeof(text), -EINVAL, "magic");
	expect(NULL, 0, -EINVAL, "magic");
}
END_TEST

/* Header fields with a valid checksum: each refused for what it is. */
START_TEST(bad_header_fields)
{
	static const struct { size_t off; uint32_t val; const char *why; } cases[] = {
		{ 12, 72, "bad fields" },           /* header size */
		{ 16, 0, "vCPU count" },
		{ 16, SNAP_MAX_VCPUS + 1, "vCPU count" },
		{ 20, 0, "section count" },
		{ 20, SNAP_MAX_SECTIONS + 1, "section count" },
		{ 24, 4095, "RAM size" },           /* RAM bytes, low word */
		{ 52, 0x2, "bad fields" },          /* unknown flag */
		{ 56, 1, "bad fields" },            /* reserved */
	};
	size_t len;
	uint8_t *buf = good(&len);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *b = malloc(len);
		memcpy(b, buf, len);
		if (cases[i].off == 24) {
			uint64_t m = cases[i].val;
			memcpy(b + 24, &m, 8);
		} else {
			memcpy(b + cases[i].off, &cases[i].val, 4);
		}
		refix_crc(b, len);
		expect(b, len, -EINVAL, cases[i].why);
		free(b);
	}
	free(buf);
}
END_TEST

static void expect_built(struct snap_writer *w, int err, const char *why)
{
	uint8_t *buf;
	size_t len;

	ck_assert_int_eq(snap_finish(w, &buf, &len), 0);
	expect(buf, len, err, why);
	free(buf);
}

START_TEST(crafted_sections)
{
	struct snap_writer w;

	build(&w, SKIP_NONE);
	add_filled(&w, SNAP_SEC_DEVICE, 3, 8);
	expect_built(&w, -EINVAL, "duplicate");

	build(&w, SKIP_XSAVE_1);
	expect_built(&w, -EBADMSG, "missing");

	build(&w, SKIP_CLOCK);
	expect_built(&w, -EBADMSG, "missing");

	build(&w, SKIP_NONE);
	add_filled(&w, SNAP_SEC_TYPE_MAX, 0, 8);
	expect_built(&w, -EINVAL, "unknown section");

	build(&w, SKIP_NONE);
	add_filled(&w, 0, 0, 8);
	expect_built(&w, -EINVAL, "unknown section");

	build(&w, SKIP_NONE);
	add_filled(&w, SNAP_SEC_VCPU_REGS, NR_VCPUS, sizeof(struct kvm_regs));
	expect_built(&w, -EINVAL, "instance");

	build(&w, SKIP_NONE);
	add_filled(&w, SNAP_SEC_DEVICE, SNAP_MAX_DEVICES, 8);
	expect_built(&w, -EINVAL, "instance");

	build(&w, SKIP_NONE);
	add_filled(&w, SNAP_SEC_VM_CLOCK, 1, sizeof(struct kvm_clock_data));
	expect_built(&w, -EINVAL, "instance");

	/* A register section one byte short of struct kvm_regs. */
	struct snap_info info = { .nr_vcpus = 1, .mem_bytes = MEM_BYTES };
	snap_writer_init(&w, &info);
	add_filled(&w, SNAP_SEC_VCPU_REGS, 0, sizeof(struct kvm_regs) - 1);
	expect_built(&w, -EBADMSG, "wrong size");

	/* MSRs: a count the length does not match, zero, too many. */
	snap_writer_init(&w, &info);
	add_msrs(&w, 0, 3, 4);
	expect_built(&w, -EBADMSG, "count");
	snap_writer_init(&w, &info);
	add_msrs(&w, 0, 0, 0);
	expect_built(&w, -EINVAL, "count");
	snap_writer_init(&w, &info);
	add_msrs(&w, 0, 1, SNAP_MAX_MSRS + 1);
	expect_built(&w, -EINVAL, "count");

	/* An irqchip section in a VM that had none. */
	snap_writer_init(&w, &info);
	add_filled(&w, SNAP_SEC_VM_IOAPIC, 0, sizeof(struct kvm_irqchip));
	expect_built(&w, -EINVAL, "irqchip");
}
END_TEST

/* Without an irqchip the VM-wide and per-vCPU non-irqchip sections are
 * enough. */
START_TEST(no_irqchip)
{
	struct snap_info info = { .nr_vcpus = 1, .mem_bytes = MEM_BYTES };
	struct snap_writer w;

	snap_writer_init(&w, &info);
	add_filled(&w, SNAP_SEC_VCPU_REGS, 0, sizeof(struct kvm_regs));
	add_filled(&w, SNAP_SEC_VCPU_SREGS, 0, sizeof(struct kvm_sregs));
	add_filled(&w, SNAP_SEC_VCPU_XSAVE, 0, sizeof(struct kvm_xsave));
	add_filled(&w, SNAP_SEC_VCPU_XCRS, 0, sizeof(struct kvm_xcrs));
	add_msrs(&w, 0, 1, 1);
	add_filled(&w, SNAP_SEC_VCPU_EVENTS, 0, sizeof(struct kvm_vcpu_events));
	add_filled(&w, SNAP_SEC_VCPU_MPSTATE, 0, sizeof(struct kvm_mp_state));
	add_filled(&w, SNAP_SEC_VM_CLOCK, 0, sizeof(struct kvm_clock_data));
	expect_built(&w, 0, NULL);
}
END_TEST

/* Nonzero bytes in a section's padding: refused (one canonical file per
 * state, nothing hidden between sections). */
START_TEST(dirty_padding)
{
	size_t len;
	uint8_t *buf = good(&len);
	struct snap_state st;
	const char *why;

	/* The last two sections: device 0 (13 bytes, padded to 16), then
	 * device 3 (200 bytes). The padding of device 0 ends 216 + 16 bytes
	 * before the end. */
	size_t pad = len - (SNAP_SECTION_HDR + 200) - 1;
	ck_assert_int_eq(snap_parse(buf, len, &st, &why), 0);
	ck_assert_ptr_eq(snap_find(&st, SNAP_SEC_DEVICE, 0)->data + 15, buf + pad);
	snap_state_free(&st);
	buf[pad] = 1;
	refix_crc(buf, len);
	expect(buf, len, -EINVAL, "padding");
	free(buf);
}
END_TEST

START_TEST(writer_limits)
{
	struct snap_info info = { .nr_vcpus = 1, .mem_bytes = MEM_BYTES };
	struct snap_writer w;
	uint8_t *buf;
	size_t len;

	snap_writer_init(&w, &info);
	add_filled(&w, SNAP_SEC_DEVICE, 0, SNAP_MAX_SECTION + 1);
	ck_assert_int_eq(snap_finish(&w, &buf, &len), -EFBIG);
	snap_writer_init(&w, &info);
	snap_add(&w, SNAP_SEC_DEVICE, 0, "", 0);
	ck_assert_int_eq(snap_finish(&w, &buf, &len), -EFBIG);
}
END_TEST

/* One ELF note: header, name and descriptor, each padded to 4 bytes. */
static size_t put_note(uint8_t *p, uint32_t type, const char *name, uint32_t namesz,
		       const void *desc, uint32_t descsz)
{
	size_t n = 12;

	memcpy(p, &namesz, 4);
	memcpy(p + 4, &descsz, 4);
	memcpy(p + 8, &type, 4);
	memcpy(p + n, name, namesz);
	n += (namesz + 3u) & ~3u;
	memcpy(p + n, desc, descsz);
	return n + ((descsz + 3u) & ~3u);
}

START_TEST(build_id_notes)
{
	static const uint8_t bid[20] = { 0xe2, 0x79, 0x19, 0xa9, 0x81, 0xe0, 0xee, 0x07 };
	static const uint8_t xen[8] = { 0x80, 0x06, 0x00, 0x01 };
	uint8_t notes[256] = { 0 }, id[SNAP_BUILD_ID_MAX], big[SNAP_BUILD_ID_MAX + 1] = { 0 };
	uint32_t huge = 0xfffffff0u;
	size_t n;

	/* After another note, as in a vmlinux's PT_NOTE segment. */
	n = put_note(notes, 18, "Xen", 4, xen, sizeof(xen));
	n += put_note(notes + n, 3, "GNU", 4, bid, sizeof(bid));
	ck_assert_uint_eq(snap_find_build_id(notes, n, id), sizeof(bid));
	ck_assert_mem_eq(id, bid, sizeof(bid));
	/* Cut short: the descriptor runs past the notes. */
	ck_assert_uint_eq(snap_find_build_id(notes, n - 4, id), 0);
	ck_assert_uint_eq(snap_find_build_id(notes, 11, id), 0);
	/* Another owner, another type, too long: no build ID. */
	n = put_note(notes, 3, "Xen", 4, bid, sizeof(bid));
	ck_assert_uint_eq(snap_find_build_id(notes, n, id), 0);
	n = put_note(notes, 1, "GNU", 4, bid, sizeof(bid));
	ck_assert_uint_eq(snap_find_build_id(notes, n, id), 0);
	n = put_note(notes, 3, "GNU", 4, big, sizeof(big));
	ck_assert_uint_eq(snap_find_build_id(notes, n, id), 0);
	/* A name size that would wrap the walk round. */
	memset(notes, 0, sizeof(notes));
	memcpy(notes, &huge, 4);
	ck_assert_uint_eq(snap_find_build_id(notes, sizeof(notes), id), 0);
	/* The identity changes with the ID and with the file's size. */
	ck_assert_uint_ne(snap_build_id_identity(bid, sizeof(bid), 1000),
			  snap_build_id_identity(bid, sizeof(bid), 1001));
	ck_assert_uint_ne(snap_build_id_identity(bid, sizeof(bid), 1000),
			  snap_build_id_identity(xen, sizeof(xen), 1000));
	ck_assert_uint_eq(snap_build_id_identity(bid, sizeof(bid), 1000),
			  snap_build_id_identity(bid, sizeof(bid), 1000));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot_file");
	TCase *tc = tcase_create("state file");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, crc32c_vector);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, truncated);
	tcase_add_test(tc, bit_flipped);
	tcase_add_test(tc, wrong_version);
	tcase_add_test(tc, oversized);
	tcase_add_test(tc, not_a_state_file);
	tcase_add_test(tc, bad_header_fields);
	tcase_add_test(tc, crafted_sections);
	tcase_add_test(tc, no_irqchip);
	tcase_add_test(tc, dirty_padding);
	tcase_add_test(tc, writer_limits);
	tcase_add_test(tc, build_id_notes);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
