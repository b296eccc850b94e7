// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The control channel's host end, driven as a hostile alcatraz-init would:
 * over the vsock connection, records that break the protocol must end the
 * VM with the runner's expected runtime error, and a proper conversation
 * must deliver exactly the command's records and end with its status.
 * Each case ends the VM itself, so none returns.
 */
#include "hostile.h"
#include "../../../src/guest/control_proto.h"

static struct vsock v;

static int send_record(uint32_t magic, uint32_t type, const void *payload, uint32_t len)
{
	uint8_t rec[64];

	alcatraz_ctl_put_le32(rec, magic);
	alcatraz_ctl_put_le32(rec + 4, type);
	alcatraz_ctl_put_le32(rec + 8, len);
	memcpy(rec + 12, payload, len);
	return vs_send(&v, VS_OP_RW, VS_GUEST_PORT, VS_HOST_PORT, rec, 12 + len);
}

static int send_pair(uint32_t type, uint32_t a, int32_t b)
{
	uint8_t p[16];

	memset(p, 0, sizeof(p));
	alcatraz_ctl_put_le32(p, a);
	alcatraz_ctl_put_le32(p + 4, (uint32_t)b);
	alcatraz_ctl_put_le64(p + 8, 12345);
	return send_record(ALCATRAZ_CTL_MAGIC, type, p, 16);
}

static int event(uint32_t ev)
{
	return send_pair(ALCATRAZ_CTL_EVENT, ev, 0);
}

/* The VM is over once the host took the last record: wait to be stopped. */
static int __attribute__((noreturn)) wait_for_the_end(void)
{
	put_str("record sent, waiting for the VMM to end the VM\n");
	for (;;)
		cpu_relax();
}

int case_p_conversation(void)
{
	/* What the host must send once init has started: ARG, END, and
	 * STDIN_EOF{0} since the VM has no stdin. */
	uint8_t want[64], got[128];
	uint32_t n = 0, have = 0;
	struct vsock_hdr h;

	alcatraz_ctl_put_hdr(want, ALCATRAZ_CTL_ARG, sizeof(HOSTILE_ARGV0) - 1);
	memcpy(want + 12, HOSTILE_ARGV0, sizeof(HOSTILE_ARGV0) - 1);
	n = 12 + sizeof(HOSTILE_ARGV0) - 1;
	alcatraz_ctl_put_hdr(want + n, ALCATRAZ_CTL_END, 0);
	n += 12;
	alcatraz_ctl_put_hdr(want + n, ALCATRAZ_CTL_STDIN_EOF, 8);
	alcatraz_ctl_put_le64(want + n + 12, 0);
	n += 20;

	TRY(vs_connect(&v));
	TRY(event(ALCATRAZ_CTL_EV_INIT_START));
	while (have < n) {
		EXPECT(vs_recv(&v, &h, got + have, sizeof(got) - have, WAIT_LONG));
		EXPECT_EQ(h.op, VS_OP_RW);
		EXPECT_EQ(h.src_port, VS_HOST_PORT);
		EXPECT_EQ(h.dst_port, VS_GUEST_PORT);
		EXPECT(h.len > 0 && have + h.len <= n);
		have += h.len;
	}
	EXPECT(!memcmp(got, want, n));
	/* Nothing more is due. */
	EXPECT(!vs_recv(&v, &h, NULL, 0, WAIT_SHORT));
	put_str("host records ok\n");
	TRY(event(ALCATRAZ_CTL_EV_CMD_START));
	TRY(send_pair(ALCATRAZ_CTL_STATUS, ALCATRAZ_CTL_ST_EXITED, 42));
	wait_for_the_end();
}

int case_p_bad_magic(void)
{
	uint8_t p[16] = { 1 };

	TRY(vs_connect(&v));
	TRY(send_record(0x31434c42, ALCATRAZ_CTL_EVENT, p, 16));
	wait_for_the_end();
}

int case_p_bad_len(void)
{
	uint8_t p[20] = { 1 };

	TRY(vs_connect(&v));
	TRY(send_record(ALCATRAZ_CTL_MAGIC, ALCATRAZ_CTL_EVENT, p, 17));
	wait_for_the_end();
}

int case_p_host_type(void)
{
	TRY(vs_connect(&v));
	TRY(send_record(ALCATRAZ_CTL_MAGIC, ALCATRAZ_CTL_ARG, "sh -c", 5));
	wait_for_the_end();
}

int case_p_unexpected_event(void)
{
	TRY(vs_connect(&v));
	TRY(event(ALCATRAZ_CTL_EV_CMD_START)); /* before INIT_START */
	wait_for_the_end();
}

int case_p_too_many_events(void)
{
	TRY(vs_connect(&v));
	TRY(event(ALCATRAZ_CTL_EV_INIT_START));
	for (int i = 0; i < 8; i++)
		TRY(event(ALCATRAZ_CTL_EV_CMD_START));
	wait_for_the_end();
}

int case_p_bad_status(void)
{
	TRY(vs_connect(&v));
	TRY(send_pair(ALCATRAZ_CTL_STATUS, 9, 0));
	wait_for_the_end();
}

int case_p_status_range(void)
{
	TRY(vs_connect(&v));
	TRY(send_pair(ALCATRAZ_CTL_STATUS, ALCATRAZ_CTL_ST_EXITED, 256));
	wait_for_the_end();
}

int case_p_exec_failed(void)
{
	TRY(vs_connect(&v));
	TRY(send_pair(ALCATRAZ_CTL_STATUS, ALCATRAZ_CTL_ST_EXEC_FAILED, ALCATRAZ_CTL_ENOENT));
	wait_for_the_end();
}

int case_p_split(void)
{
	uint8_t rec[2][28];

	/* INIT_START and STATUS(SIGNALED 9), one byte per packet. */
	for (int r = 0; r < 2; r++) {
		alcatraz_ctl_put_hdr(rec[r], r ? ALCATRAZ_CTL_STATUS : ALCATRAZ_CTL_EVENT, 16);
		memset(rec[r] + 12, 0, 16);
		alcatraz_ctl_put_le32(rec[r] + 12, r ? ALCATRAZ_CTL_ST_SIGNALED
						     : ALCATRAZ_CTL_EV_INIT_START);
		alcatraz_ctl_put_le32(rec[r] + 16, r ? 9 : 0);
	}
	TRY(vs_connect(&v));
	for (int r = 0; r < 2; r++)
		for (int i = 0; i < 28; i++)
			TRY(vs_send(&v, VS_OP_RW, VS_GUEST_PORT, VS_HOST_PORT, &rec[r][i], 1));
	wait_for_the_end();
}

int case_p_disconnect(void)
{
	TRY(vs_connect(&v));
	TRY(event(ALCATRAZ_CTL_EV_INIT_START));
	TRY(vs_send(&v, VS_OP_SHUTDOWN, VS_GUEST_PORT, VS_HOST_PORT, NULL, 0));
	wait_for_the_end();
}

int case_p_reset_early(void)
{
	TRY(vs_connect(&v));
	TRY(event(ALCATRAZ_CTL_EV_INIT_START));
	outb(0x64, 0xfe); /* i8042 reset before STATUS: a crash */
	wait_for_the_end();
}

int case_v_rx_header_only(void)
{
	uint8_t *b = galloc(256, 64);
	struct vsock_hdr h;
	uint32_t id, len;

	/* Two receive buffers with room for a header and nothing more. */
	TRY(vio_up(VIO_VSOCK, v.q, 3, 8, 0));
	for (int i = 0; i < 2; i++) {
		struct seg s = { gpa(b) + 64 * i, 44, D_WRITE };
		vq_publish(&v.q[0], vq_chain(&v.q[0], &s, 1));
	}
	vq_kick(&v.q[0]);
	/* The RESPONSE is header-only: it fits. */
	TRY(vs_send(&v, VS_OP_REQUEST, VS_GUEST_PORT, VS_HOST_PORT, NULL, 0));
	EXPECT(vq_wait(&v.q[0], WAIT_LONG, &id, &len));
	EXPECT_EQ(len, 44);
	memcpy(&h, b + 64 * id, sizeof(h));
	EXPECT_EQ(h.op, VS_OP_RESPONSE);
	/* The command's records are data: no room for them is NEEDS_RESET,
	 * never an empty OP_RW packet. */
	TRY(event(ALCATRAZ_CTL_EV_INIT_START));
	return expect_needs_reset(&v.q[0], 1);
}
