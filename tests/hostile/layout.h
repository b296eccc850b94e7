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
#define VIO_NONE 0xd0005000ULL   /* no device there */

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

#endif
