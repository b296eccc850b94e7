// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vsock-cid: prints the guest's vsock CID as the guest kernel has it
 * (IOCTL_VM_SOCKETS_GET_LOCAL_CID on /dev/vsock), for lab-snapshot. No libc:
 * a few hundred bytes of x86-64 system calls, small enough to travel in the
 * warm-up's command line (the default guest has no compiler and no tool
 * that asks). Exit status 1 when the kernel does not answer.
 */
#define SYS_WRITE 1
#define SYS_OPEN 2
#define SYS_IOCTL 16
#define SYS_EXIT 60
#define O_RDONLY 0
/* _IO(7, 0xb9), linux/vm_sockets.h */
#define IOCTL_VM_SOCKETS_GET_LOCAL_CID 0x7b9

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

__attribute__((noreturn)) static void leave(int status)
{
	sys3(SYS_EXIT, status, 0, 0);
	__builtin_unreachable();
}

__attribute__((noreturn, force_align_arg_pointer)) void _start(void)
{
	char out[16];
	unsigned int cid = 0;
	int n = sizeof(out);
	long fd = sys3(SYS_OPEN, (long)"/dev/vsock", O_RDONLY, 0);

	if (fd < 0 || sys3(SYS_IOCTL, fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, (long)&cid) < 0)
		leave(1);
	out[--n] = '\n';
	do {
		out[--n] = (char)('0' + cid % 10);
		cid /= 10;
	} while (cid);
	sys3(SYS_WRITE, 1, (long)(out + n), (long)(sizeof(out) - (unsigned int)n));
	leave(0);
}
