// SPDX-License-Identifier: LGPL-2.1-or-later
/* virtio-blk requests: the status byte the device writes, the length it
 * reports, and the data (the runner checks the image files afterwards). */
#include "hostile.h"

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define ST_OK 0
#define ST_IOERR 1
#define ST_UNSUPP 2

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static struct vq q;
static struct blk_hdr *hdr;
static uint8_t *data, *status;

static int up(uint64_t base)
{
	hdr = galloc(sizeof(*hdr), 16);
	data = galloc(4096, 4096);
	status = galloc(16, 16);
	return vio_up(base, &q, 1, 16, 0);
}

/* One request: header, optional data (device-writable for reads), status.
 * Fails the case unless it is used with `want` status and `want_len`. */
static int req(uint32_t type, uint64_t sector, uint32_t len, uint8_t want, uint32_t want_len)
{
	struct seg s[3];
	unsigned int n = 0;
	uint32_t used_len = 0xdead;

	hdr->type = type;
	hdr->reserved = 0;
	hdr->sector = sector;
	*status = 0xee;
	s[n++] = (struct seg){ gpa(hdr), sizeof(*hdr), 0 };
	if (len)
		s[n++] = (struct seg){ gpa(data), len, type == T_OUT ? 0 : D_WRITE };
	s[n++] = (struct seg){ gpa(status), 1, D_WRITE };
	vq_send(&q, s, n);
	EXPECT(vq_wait(&q, WAIT_LONG, NULL, &used_len));
	EXPECT_EQ(*status, want);
	EXPECT_EQ(used_len, want_len);
	return 0;
}

static int data_is_sector(unsigned int sector, unsigned int count)
{
	for (unsigned int s = 0; s < count; s++)
		for (unsigned int i = 0; i < 512; i++)
			EXPECT_EQ(data[s * 512 + i], DISK_BYTE(sector + s, i));
	return 0;
}

int case_b_read(void)
{
	TRY(up(VIO_BLK));
	TRY(req(T_IN, 3, 512, ST_OK, 513));
	TRY(data_is_sector(3, 1));
	TRY(req(T_IN, DISK_SECTORS - 2, 1024, ST_OK, 1025)); /* the last two */
	TRY(data_is_sector(DISK_SECTORS - 2, 2));
	/* Two data descriptors for one request. */
	struct seg s[4] = {
		{ gpa(hdr), sizeof(*hdr), 0 },
		{ gpa(data), 512, D_WRITE },
		{ gpa(data) + 512, 512, D_WRITE },
		{ gpa(status), 1, D_WRITE },
	};
	uint32_t len;
	hdr->type = T_IN;
	hdr->sector = 10;
	memset(data, 0, 1024);
	vq_send(&q, s, 4);
	EXPECT(vq_wait(&q, WAIT_LONG, NULL, &len));
	EXPECT_EQ(*status, ST_OK);
	EXPECT_EQ(len, 1025);
	return data_is_sector(10, 2);
}

int case_b_bad_sector(void)
{
	TRY(up(VIO_BLK));
	memset(data, 0x77, 4096);
	TRY(req(T_IN, DISK_SECTORS, 512, ST_IOERR, 1));      /* first sector past the end */
	TRY(req(T_IN, DISK_SECTORS - 1, 1024, ST_IOERR, 1)); /* runs past the end */
	TRY(req(T_IN, 1ULL << 55, 512, ST_IOERR, 1));        /* sector * 512 overflows */
	TRY(req(T_IN, ~0ULL, 512, ST_IOERR, 1));
	TRY(req(T_OUT, DISK_SECTORS, 512, ST_IOERR, 1));
	TRY(req(T_OUT, (1ULL << 55) - 1, 1024, ST_IOERR, 1)); /* offset + len overflows */
	for (int i = 0; i < 4096; i++)
		EXPECT_EQ(data[i], 0x77); /* nothing read into the buffer */
	return 0;
}

int case_b_bad_type(void)
{
	TRY(up(VIO_BLK));
	TRY(req(99, 0, 512, ST_UNSUPP, 1));
	TRY(req(2, 0, 0, ST_UNSUPP, 1));
	TRY(req(0xffffffff, 0, 0, ST_UNSUPP, 1));
	TRY(req(T_FLUSH, 0, 0, ST_OK, 1));
	return 0;
}

int case_b_short_header(void)
{
	uint32_t len;

	TRY(up(VIO_BLK));
	/* 8 of the 16 header bytes, then the status. */
	struct seg s[2] = { { gpa(hdr), 8, 0 }, { gpa(status), 1, D_WRITE } };
	*status = 0xee;
	vq_send(&q, s, 2);
	EXPECT(vq_wait(&q, WAIT_LONG, NULL, &len));
	EXPECT_EQ(*status, ST_IOERR);
	EXPECT_EQ(len, 1);
	/* No header at all: only the status byte. */
	*status = 0xee;
	vq_send(&q, &s[1], 1);
	EXPECT(vq_wait(&q, WAIT_LONG, NULL, &len));
	EXPECT_EQ(*status, ST_IOERR);
	EXPECT_EQ(len, 1);
	return 0;
}

int case_b_no_status(void)
{
	uint16_t before;

	TRY(up(VIO_BLK));
	/* Only device-readable descriptors: nowhere to put a status. */
	struct seg s[2] = { { gpa(hdr), sizeof(*hdr), 0 }, { gpa(data), 512, 0 } };
	hdr->type = T_IN;
	hdr->sector = 0;
	before = vq_used_idx(&q);
	vq_send(&q, s, 2);
	return expect_needs_reset(&q, before);
}

int case_b_unaligned(void)
{
	TRY(up(VIO_BLK));
	TRY(req(T_IN, 0, 100, ST_IOERR, 1));
	TRY(req(T_IN, 0, 513, ST_IOERR, 1));
	TRY(req(T_OUT, 0, 511, ST_IOERR, 1));
	TRY(req(T_IN, 0, 0, ST_OK, 1)); /* no data at all: nothing to do */
	return 0;
}

int case_b_write_ro(void)
{
	TRY(up(VIO_BLK_RO));
	memset(data, 0x5a, 4096);
	TRY(req(T_OUT, 0, 512, ST_IOERR, 1));
	TRY(req(T_OUT, 1, 4096, ST_IOERR, 1));
	TRY(req(T_FLUSH, 0, 0, ST_OK, 1));
	TRY(req(T_IN, 2, 512, ST_OK, 513));
	for (int i = 0; i < 512; i++)
		EXPECT_EQ(data[i], DISK_RO_BYTE(2, i));
	return 0;
}

int case_b_write(void)
{
	TRY(up(VIO_BLK));
	for (int i = 0; i < 512; i++)
		data[i] = DISK_WRITE_BYTE(i);
	TRY(req(T_OUT, DISK_WRITE_SECTOR, 512, ST_OK, 1));
	TRY(req(T_FLUSH, 0, 0, ST_OK, 1));
	memset(data, 0, 4096);
	TRY(req(T_IN, DISK_WRITE_SECTOR, 512, ST_OK, 513));
	for (int i = 0; i < 512; i++)
		EXPECT_EQ(data[i], DISK_WRITE_BYTE(i));
	return 0;
}

int case_b_get_id(void)
{
	static const char want[] = "alcatraz3";

	TRY(up(VIO_BLK));
	memset(data, 0x11, 64);
	TRY(req(T_GET_ID, 0, 20, ST_OK, 21));
	EXPECT(!memcmp(data, want, sizeof(want)));
	/* A short buffer gets what fits. */
	memset(data, 0x11, 64);
	TRY(req(T_GET_ID, 0, 4, ST_OK, 5));
	EXPECT(!memcmp(data, "alca", 4));
	EXPECT_EQ(data[4], 0x11);
	return 0;
}
