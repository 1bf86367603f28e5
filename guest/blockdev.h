/*
 * A tiny block device for the lab programs (hax-guest, hax-journal-check): an iSCSI LUN
 * through libiscsi, or a plain file for unit tests. Blocking calls with a deadline: these
 * programs are separate processes, never the haxd loop. Blocks are always 512 bytes.
 */
#ifndef HAX_BLOCKDEV_H
#define HAX_BLOCKDEV_H

#include <stddef.h>
#include <stdint.h>

#define BDEV_BLOCK 512
#define BDEV_DEFAULT_INITIATOR "iqn.2026-11.org.hax:guest"

struct bdev;

/* Open "iscsi://[USER[%PASS]@]HOST[:PORT]/TARGET-IQN/LUN" logging in as initiator, or else
 * a file path (read-write if allowed, else read-only). 0 or -errno with a one-line reason
 * in err. A LUN whose block size is not 512 is refused (-EMEDIUMTYPE). */
int bdev_open(const char *url, const char *initiator, struct bdev **out, char *err, size_t errlen);

/* Number of 512-byte blocks. */
uint64_t bdev_nblocks(const struct bdev *b);

/*
 * Read n blocks at lba into buf; bdev_write writes one block. 0 or -errno:
 *   -EACCES     SCSI RESERVATION CONFLICT (fenced, or unregistered on a reserved LUN)
 *   -EAGAIN     UNIT ATTENTION twice in a row (one is absorbed by an internal retry)
 *   -EBUSY      BUSY / TASK SET FULL / NOT READY: try again later
 *   -ENOTCONN   the session is gone (reconnect failed); the next call reconnects
 *   -ETIMEDOUT  no answer within the deadline; the command may still run at the target
 *   -EIO        any other failure
 * -ENOTCONN, -ETIMEDOUT and -EIO leave it unknown whether a write reached the disk.
 * bdev_last_error() says what happened in one line.
 */
int bdev_read(struct bdev *b, uint64_t lba, uint64_t n, void *buf);
int bdev_write(struct bdev *b, uint64_t lba, const void *buf);

/* Join the reservation with key on this session (PERSISTENT RESERVE OUT, REGISTER AND
 * IGNORE EXISTING KEY), so it may write under a Write Exclusive - Registrants Only
 * reservation, but only while key is already listed on the LUN (haxd registered it as a
 * member in good standing; a fence removed it) and only if the PR generation moved by
 * exactly one around the REGISTER (else it is taken back). A fenced host never unfences
 * itself this way. 0; -EPERM key not listed; -EAGAIN registrations changed meanwhile
 * (try later); -EOPNOTSUPP for files; else as bdev_read. */
#define BDEV_PR_MAX_KEYS 1024
int bdev_pr_join(struct bdev *b, uint64_t key);

/* One line describing the last failure of b ("" when none). */
const char *bdev_last_error(const struct bdev *b);

/* Log out (bounded) and free; NULL is fine. */
void bdev_close(struct bdev *b);

#endif
