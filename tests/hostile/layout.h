/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the hostile runner gives the guest, known to both sides. */
#ifndef HOSTILE_LAYOUT_H
#define HOSTILE_LAYOUT_H

#define HOSTILE_MEM_MIB 64
#define HOSTILE_MEM_BYTES ((uint64_t)HOSTILE_MEM_MIB << 20)
#define HOSTILE_VCPUS 3

/* The platform devices in the order platform_raw.c adds them. */
#define VIO_CONSOLE 0xd0000000ULL
#define VIO_VSOCK 0xd0001000ULL
#define VIO_RNG 0xd0002000ULL
#define VIO_BLK 0xd0003000ULL    /* read-write disk */
#define VIO_BLK_RO 0xd0004000ULL /* read-only disk */
#define VIO_NONE 0xd0005000ULL   /* no device there (but in F_NET cases) */
#define VIO_NET 0xd0005000ULL    /* virtio-net, F_NET cases only */

#define DISK_SECTORS 128
#define DISK_RO_SECTORS 8
/* Byte i of sector s of each disk, as the runner writes them. */
#define DISK_BYTE(s, i) ((uint8_t)((s) * 31u + (i) * 7u + 1u))
#define DISK_RO_BYTE(s, i) ((uint8_t)(0xa5u ^ ((s) * 13u + (i))))
/* The sector the write cases write, and their pattern. */
#define DISK_WRITE_SECTOR 5
#define DISK_WRITE_BYTE(i) ((uint8_t)(0x3c + (i) * 3u))

/* The command the control channel sends (the VM's argv). */
#define HOSTILE_ARGV0 "hostile-case"
/* What the console case writes. */
#define CONSOLE_TEXT "virtio console: hostile hello\n"

/*
 * The net cases' frames (guest/c_net.c, checked by the runner): Ethernet
 * type NETF_ETYPE, then a 4-byte tag, u32 seq, u32 length, and from
 * NETF_MIN on byte i of frame seq is NETF_BYTE(seq, i). The guest sends
 * "good" frames (seq 0, 1, ...), "csum" ones (good, with a checksum the
 * device completes at NETF_CSUM_AT over [NETF_CSUM_START, end)), "bad!"
 * ones the device must drop, "give" (seq = count, length = their length:
 * the runner sends that many "host" frames) and "done" (seq = how many
 * good frames were sent).
 */
#define NETF_ETYPE 0x88b5
#define NETF_TAG 14
#define NETF_SEQ 18
#define NETF_LEN 22
#define NETF_MIN 26
#define NETF_BYTE(seq, i) ((uint8_t)((seq) * 7u + (i) * 3u + 5u))
#define NETF_GOOD "good"
#define NETF_CSUM "csum"
#define NETF_BAD "bad!"
#define NETF_GIVE "give"
#define NETF_DONE "done"
#define NETF_HOST "host"
#define NETF_GIVE_MAX 9000
#define NETF_CSUM_START 34
#define NETF_CSUM_AT 50
#define NET_TEST_MTU 1500

#endif
