/* Locks the gofer down before it serves: a private mount namespace rooted at
 * the container rootfs, no fds but the ones it needs, only the file-owner
 * capabilities, no_new_privs and a seccomp allowlist of the serve loop's
 * syscalls. */
#ifndef GOFER_CONFINE_H
#define GOFER_CONFINE_H

/* root is the rootfs path whose O_PATH fd is root_fd (the new / must be that
 * inode); keep lists the fds that survive. Returns 0 or a negative errno;
 * on failure the caller must exit, never serve unconfined. */
int gofer_confine(const char *root, int root_fd, const int *keep,
		  unsigned nkeep);

/* The separate steps, for tests. */
int gofer_confine_fds(const int *keep, unsigned nkeep);
int gofer_confine_caps(void);
int gofer_confine_seccomp(void);

#endif
