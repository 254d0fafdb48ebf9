// SPDX-License-Identifier: GPL-2.0
/*
 * nsrun NETNS COMMAND [ARG]...: COMMAND in the network namespace
 * /run/netns/NETNS (as `nsenter --net=/run/netns/NETNS -- COMMAND`), which
 * it execs, so its PID is COMMAND's. The tests run most commands this way;
 * built static, it costs a third of what nsenter (dynamic, with libselinux)
 * costs to start on the debug kernel.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char path[256];
	int fd;

	if (argc < 3) {
		fputs("usage: nsrun NETNS COMMAND [ARG]...\n", stderr);
		return 125;
	}
	if (snprintf(path, sizeof(path), "/run/netns/%s", argv[1]) >= (int)sizeof(path)) {
		fprintf(stderr, "nsrun: namespace name too long: %s\n", argv[1]);
		return 125;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "nsrun: entering %s: ", path);
		perror(NULL);
		return 125;
	}
	close(fd);
	execvp(argv[2], argv + 2);
	fprintf(stderr, "nsrun: %s: ", argv[2]);
	perror(NULL);
	return 127;
}
