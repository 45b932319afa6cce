#include "bulkhead/fdpass.h"

#include <string.h>
#include <unistd.h>

int fdpass_take(struct msghdr *mh, int *keep)
{
	int closed = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm;
	     cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(fd));
			if (keep && *keep < 0) {
				*keep = fd;
			} else {
				close(fd);
				closed++;
			}
		}
	}
	return closed;
}
