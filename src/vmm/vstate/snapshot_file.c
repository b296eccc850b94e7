// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The snapshot state file: writer and the parser that restores trust in
 * nothing it reads (snapshot_file.h has the layout). Every length and
 * offset is checked with overflow-checked arithmetic before it is used.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>

#include "snapshot_file.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the state file is little-endian and read with memcpy");

/* Header field offsets. */
#define H_MAGIC 0
#define H_VERSION 8
#define H_HDR_SIZE 12
#define H_VCPUS 16
#define H_SECTIONS 20
#define H_MEM 24
#define H_KERNEL 32
#define H_BODY 40
#define H_CRC 48
#define H_FLAGS 52
#define H_RESERVED 56

#define CRC32C_POLY 0x82f63b78u /* Castagnoli, reflected */
#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull

/* ------------------------------------------------------------ checksums */

uint32_t snap_crc32c(uint32_t crc, const void *data, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	const uint8_t *p = data;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		/* Idempotent: two threads racing here write the same values. */
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
			__atomic_store_n(&table[i], c, __ATOMIC_RELAXED);
		}
		__atomic_store_n(&ready, true, __ATOMIC_RELEASE);
	}
	crc = ~crc;
	for (size_t i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

#define NT_GNU_BUILD_ID 3
#define NOTE_HDR 12

static uint64_t fnv64(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return h;
}

uint64_t snap_kernel_id(const void *data, size_t len)
{
	return fnv64(FNV64_OFFSET, data, len);
}

/* Each note: u32 name size, u32 descriptor size, u32 type, the name and
 * the descriptor each padded to 4 bytes. */
size_t snap_find_build_id(const uint8_t *notes, size_t len, uint8_t id[SNAP_BUILD_ID_MAX])
{
	size_t off = 0;

	while (len - off >= NOTE_HDR) {
		uint32_t namesz = get32(notes + off), descsz = get32(notes + off + 4);
		uint32_t type = get32(notes + off + 8);
		size_t name = off + NOTE_HDR, desc, next;

		if (__builtin_add_overflow(name, ((size_t)namesz + 3) & ~(size_t)3, &desc) ||
		    __builtin_add_overflow(desc, ((size_t)descsz + 3) & ~(size_t)3, &next) ||
		    next > len)
			return 0;
		if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(notes + name, "GNU", 4) &&
		    descsz >= 1 && descsz <= SNAP_BUILD_ID_MAX) {
			memcpy(id, notes + desc, descsz);
			return descsz;
		}
		off = next;
	}
	return 0;
}

uint64_t snap_build_id_identity(const uint8_t *id, size_t id_len, uint64_t file_size)
{
	static const char tag[] = "build-id";
	uint64_t h = fnv64(FNV64_OFFSET, tag, sizeof(tag));

	h = fnv64(h, &file_size, sizeof(file_size));
	return fnv64(h, id, id_len);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* The file's checksum: header with a zero CRC field, then the body. */
static uint32_t file_crc(const uint8_t *buf, size_t len)
{
	static const uint8_t zero[4];
	uint32_t crc = snap_crc32c(0, buf, H_CRC);

	crc = snap_crc32c(crc, zero, sizeof(zero));
	return snap_crc32c(crc, buf + H_CRC + 4, len - H_CRC - 4);
}

/* --------------------------------------------------------------- writer */

void snap_writer_init(struct snap_writer *w, const struct snap_info *info)
{
	memset(w, 0, sizeof(*w));
	w->info = *info;
	w->len = SNAP_HEADER_SIZE;
	w->cap = 16384;
	w->buf = calloc(1, w->cap);
	if (!w->buf)
		w->err = -ENOMEM;
}

static int writer_reserve(struct snap_writer *w, size_t more)
{
	size_t need, cap;

	if (__builtin_add_overflow(w->len, more, &need) || need > SNAP_MAX_FILE)
		return -EFBIG;
	if (need <= w->cap)
		return 0;
	cap = w->cap;
	while (cap < need)
		cap *= 2;
	uint8_t *nb = realloc(w->buf, cap);
	if (!nb)
		return -ENOMEM;
	memset(nb + w->cap, 0, cap - w->cap);
	w->buf = nb;
	w->cap = cap;
	return 0;
}

void snap_add(struct snap_writer *w, uint32_t type, uint32_t instance, const void *data,
	      uint64_t len)
{
	size_t padded;
	int err;

	if (w->err)
		return;
	if (len == 0 || len > SNAP_MAX_SECTION || w->nr_sec >= SNAP_MAX_SECTIONS) {
		w->err = -EFBIG;
		return;
	}
	padded = ((size_t)len + SNAP_ALIGN - 1) & ~(size_t)(SNAP_ALIGN - 1);
	err = writer_reserve(w, SNAP_SECTION_HDR + padded);
	if (err) {
		w->err = err;
		return;
	}
	uint8_t *p = w->buf + w->len;
	put32(p, type);
	put32(p + 4, instance);
	put64(p + 8, len);
	memcpy(p + SNAP_SECTION_HDR, data, len);
	w->len += SNAP_SECTION_HDR + padded;
	w->nr_sec++;
}

void snap_writer_free(struct snap_writer *w)
{
	free(w->buf);
	w->buf = NULL;
}

int snap_finish(struct snap_writer *w, uint8_t **out, size_t *len)
{
	uint8_t *h = w->buf;

	if (w->err) {
		snap_writer_free(w);
		return w->err;
	}
	memcpy(h + H_MAGIC, SNAP_MAGIC, SNAP_MAGIC_LEN);
	put32(h + H_VERSION, SNAP_VERSION);
	put32(h + H_HDR_SIZE, SNAP_HEADER_SIZE);
	put32(h + H_VCPUS, w->info.nr_vcpus);
	put32(h + H_SECTIONS, w->nr_sec);
	put64(h + H_MEM, w->info.mem_bytes);
	put64(h + H_KERNEL, w->info.kernel_id);
	put64(h + H_BODY, w->len - SNAP_HEADER_SIZE);
	put32(h + H_FLAGS, w->info.flags);
	put32(h + H_CRC, file_crc(h, w->len));
	*out = w->buf;
	*len = w->len;
	w->buf = NULL;
	return 0;
}

/* --------------------------------------------------------------- parser */

static bool per_vcpu(uint32_t type)
{
	return type >= SNAP_SEC_VCPU_REGS && type <= SNAP_SEC_VCPU_MPSTATE;
}

static bool needs_irqchip(uint32_t type)
{
	return type == SNAP_SEC_VCPU_LAPIC || (type >= SNAP_SEC_VM_PIC_MASTER &&
					       type <= SNAP_SEC_VM_PIT2);
}

/* The size a section of this type must have; 0: variable (checked apart). */
static uint64_t fixed_size(uint32_t type)
{
	switch (type) {
	case SNAP_SEC_VCPU_REGS: return sizeof(struct kvm_regs);
	case SNAP_SEC_VCPU_SREGS: return sizeof(struct kvm_sregs);
	case SNAP_SEC_VCPU_XSAVE: return sizeof(struct kvm_xsave);
	case SNAP_SEC_VCPU_XCRS: return sizeof(struct kvm_xcrs);
	case SNAP_SEC_VCPU_LAPIC: return sizeof(struct kvm_lapic_state);
	case SNAP_SEC_VCPU_EVENTS: return sizeof(struct kvm_vcpu_events);
	case SNAP_SEC_VCPU_MPSTATE: return sizeof(struct kvm_mp_state);
	case SNAP_SEC_VM_PIC_MASTER:
	case SNAP_SEC_VM_PIC_SLAVE:
	case SNAP_SEC_VM_IOAPIC: return sizeof(struct kvm_irqchip);
	case SNAP_SEC_VM_PIT2: return sizeof(struct kvm_pit_state2);
	case SNAP_SEC_VM_CLOCK: return sizeof(struct kvm_clock_data);
	default: return 0;
	}
}

static int check_msrs(const uint8_t *p, uint64_t len, const char **why)
{
	uint64_t want;
	uint32_t n;

	if (len < 8) {
		*why = "MSR section too short";
		return -EBADMSG;
	}
	n = get32(p);
	if (n == 0 || n > SNAP_MAX_MSRS || get32(p + 4) != 0) {
		*why = "MSR section: bad count";
		return -EINVAL;
	}
	want = 8 + (uint64_t)n * 16;
	if (len != want) {
		*why = "MSR section: length does not match its count";
		return -EBADMSG;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (get32(p + 8 + (uint64_t)i * 16 + 4) != 0) {
			*why = "MSR section: nonzero padding";
			return -EINVAL;
		}
	}
	return 0;
}

static int check_section(const struct snap_info *info, const struct snap_section *s,
			 const char **why)
{
	uint64_t want;

	if (s->type == 0 || s->type >= SNAP_SEC_TYPE_MAX) {
		*why = "unknown section type";
		return -EINVAL;
	}
	if (needs_irqchip(s->type) && !(info->flags & SNAP_F_IRQCHIP)) {
		*why = "irqchip section in a snapshot of a VM without one";
		return -EINVAL;
	}
	if (per_vcpu(s->type) ? s->instance >= info->nr_vcpus
	    : s->type == SNAP_SEC_DEVICE ? s->instance >= SNAP_MAX_DEVICES
	    : s->instance != 0) {
		*why = "section instance out of range";
		return -EINVAL;
	}
	if (s->type == SNAP_SEC_VCPU_MSRS)
		return check_msrs(s->data, s->len, why);
	want = fixed_size(s->type);
	if (want && s->len != want) {
		*why = "section has the wrong size for its type";
		return -EBADMSG;
	}
	return 0;
}

/* Every section the header's vCPU count and flags require is there. */
static int check_complete(const struct snap_state *st, const char **why)
{
	bool irq = st->info.flags & SNAP_F_IRQCHIP;

	for (uint32_t t = SNAP_SEC_VCPU_REGS; t < SNAP_SEC_DEVICE; t++) {
		if (needs_irqchip(t) && !irq)
			continue;
		uint32_t n = per_vcpu(t) ? st->info.nr_vcpus : 1;
		for (uint32_t i = 0; i < n; i++) {
			if (!snap_find(st, t, i)) {
				*why = "a required section is missing";
				return -EBADMSG;
			}
		}
	}
	return 0;
}

static int parse_header(const uint8_t *buf, size_t len, struct snap_info *info,
			uint32_t *nr_sec, const char **why)
{
	uint64_t body, total;

	if (len > SNAP_MAX_FILE) {
		*why = "state file too large";
		return -EFBIG;
	}
	if (len < SNAP_MAGIC_LEN || memcmp(buf + H_MAGIC, SNAP_MAGIC, SNAP_MAGIC_LEN)) {
		*why = "not a snapshot state file (bad magic)";
		return -EINVAL;
	}
	if (len < SNAP_HEADER_SIZE) {
		*why = "state file truncated (short header)";
		return -EBADMSG;
	}
	if (get32(buf + H_VERSION) != SNAP_VERSION) {
		*why = "state file of an unsupported version";
		return -EPROTONOSUPPORT;
	}
	body = get64(buf + H_BODY);
	if (__builtin_add_overflow(body, (uint64_t)SNAP_HEADER_SIZE, &total) || total > len) {
		*why = "state file truncated";
		return -EBADMSG;
	}
	if (total < len) {
		*why = "state file has bytes past its end";
		return -EBADMSG;
	}
	if (get32(buf + H_CRC) != file_crc(buf, len)) {
		*why = "state file corrupt (checksum mismatch)";
		return -EBADMSG;
	}
	info->nr_vcpus = get32(buf + H_VCPUS);
	info->mem_bytes = get64(buf + H_MEM);
	info->kernel_id = get64(buf + H_KERNEL);
	info->flags = get32(buf + H_FLAGS);
	*nr_sec = get32(buf + H_SECTIONS);
	if (get32(buf + H_HDR_SIZE) != SNAP_HEADER_SIZE || get64(buf + H_RESERVED) != 0 ||
	    (info->flags & ~SNAP_F_ALL)) {
		*why = "state file header has bad fields";
		return -EINVAL;
	}
	if (info->nr_vcpus == 0 || info->nr_vcpus > SNAP_MAX_VCPUS) {
		*why = "state file: bad vCPU count";
		return -EINVAL;
	}
	if (info->mem_bytes == 0 || info->mem_bytes % 4096) {
		*why = "state file: bad RAM size";
		return -EINVAL;
	}
	if (*nr_sec == 0 || *nr_sec > SNAP_MAX_SECTIONS) {
		*why = "state file: bad section count";
		return -EINVAL;
	}
	return 0;
}

/* Reads the section at *off (checked against len) and moves *off past it. */
static int next_section(const uint8_t *buf, size_t len, size_t *off, struct snap_section *s,
			const char **why)
{
	uint64_t end, padded;

	if (len - *off < SNAP_SECTION_HDR) {
		*why = "state file truncated (section header)";
		return -EBADMSG;
	}
	s->type = get32(buf + *off);
	s->instance = get32(buf + *off + 4);
	s->len = get64(buf + *off + 8);
	if (s->len == 0 || s->len > SNAP_MAX_SECTION) {
		*why = "section length out of range";
		return -EBADMSG;
	}
	padded = (s->len + SNAP_ALIGN - 1) & ~(uint64_t)(SNAP_ALIGN - 1);
	if (__builtin_add_overflow((uint64_t)*off + SNAP_SECTION_HDR, padded, &end) ||
	    end > len) {
		*why = "state file truncated (section past the end)";
		return -EBADMSG;
	}
	s->data = buf + *off + SNAP_SECTION_HDR;
	for (uint64_t i = s->len; i < padded; i++) {
		if (s->data[i]) {
			*why = "section padding is not zero";
			return -EINVAL;
		}
	}
	*off = (size_t)end;
	return 0;
}

int snap_parse(const uint8_t *buf, size_t len, struct snap_state *st, const char **why)
{
	size_t off = SNAP_HEADER_SIZE;
	uint32_t nr;
	int err;

	memset(st, 0, sizeof(*st));
	err = parse_header(buf, len, &st->info, &nr, why);
	if (err)
		return err;
	st->sec = calloc(nr, sizeof(*st->sec));
	if (!st->sec) {
		*why = "out of memory";
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nr; i++) {
		struct snap_section s;

		err = next_section(buf, len, &off, &s, why);
		if (!err)
			err = check_section(&st->info, &s, why);
		if (!err && snap_find(st, s.type, s.instance)) {
			*why = "duplicate section";
			err = -EINVAL;
		}
		if (err)
			goto fail;
		st->sec[st->nr_sec++] = s;
	}
	if (off != len) {
		*why = "state file has bytes after its last section";
		err = -EBADMSG;
		goto fail;
	}
	err = check_complete(st, why);
	if (err)
		goto fail;
	return 0;
fail:
	snap_state_free(st);
	return err;
}

void snap_state_free(struct snap_state *st)
{
	free(st->sec);
	memset(st, 0, sizeof(*st));
}

const struct snap_section *snap_find(const struct snap_state *st, uint32_t type,
				     uint32_t instance)
{
	for (uint32_t i = 0; i < st->nr_sec; i++) {
		if (st->sec[i].type == type && st->sec[i].instance == instance)
			return &st->sec[i];
	}
	return NULL;
}
