/*
 * backup.h - hot backups of a data folder and their restore. A backup is
 * one archive file holding the store (a compacted snapshot taken while the
 * server serves), the key folder (keys.json, the PEM keys, master.key:
 * without them a restored store is useless - TOTP seeds are sealed and the
 * audit chain keyed under the master key) and kleidi.ini when present.
 *
 * Archive format, version 1 (integers big-endian):
 *	header (24 bytes)	"KLEIDIBK" (8), version (2), flags (2),
 *				GCM nonce (12, zero when not encrypted)
 *	body			entries, each: name length (2) > 0, name,
 *				mode (4), size (8), size bytes of content;
 *				then an end mark: name length 0 (2);
 *				then the SHA-256 (32) of header and body
 *				before it
 *	trailer			when encrypted: the GCM tag (16)
 * With flags & BACKUP_F_AESGCM the body (digest included) is AES-256-GCM
 * ciphertext under a 32-byte key from a key file, the header its
 * associated data. Names are "store/data.mdb", "keys/NAME", "kleidi.ini";
 * a restore refuses any other name.
 */
#ifndef KLEIDI_BACKUP_H
#define KLEIDI_BACKUP_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define BACKUP_MAGIC "KLEIDIBK"
#define BACKUP_VERSION 1
#define BACKUP_F_AESGCM 0x1
#define BACKUP_HEADER_LEN 24
#define BACKUP_KEY_LEN 32
#define BACKUP_NAME_MAX 255
#define BACKUP_ENTRIES_MAX 256		/* a key folder holds a handful */
#define BACKUP_SMALL_MAX (1u << 20)	/* any entry but the store */

struct backup_report {
	size_t entries;
	uint64_t bytes;			/* content bytes */
	int encrypted;
	unsigned char digest[32];	/* the archive's SHA-256 */
	char replaced[2][1024];		/* restore --force: moved aside */
};

/* Reads a backup key file: 32 raw bytes or 64 hex digits (a trailing
 * newline allowed). Refuses a file inside data_dir: a key kept beside
 * what it protects protects nothing. 0 or -1 with err. */
int backup_key_read(const char *path, const char *data_dir,
    unsigned char key[BACKUP_KEY_LEN], char *err, size_t errlen);

/* Writes a backup of st (open on data_dir/store) and data_dir/keys to
 * file (atomically: a temp file beside it, then rename). key NULL: not
 * encrypted. 0 or -1 with err. */
int backup_write(struct store *st, const char *data_dir, const char *file,
    const unsigned char *key, struct backup_report *rep, char *err,
    size_t errlen);

/* Restores file into data_dir (created if missing): unpacks into a temp
 * folder inside it, checks the digest (and tag), that the store opens
 * and the keys load, then renames store/ and keys/ into place. Refuses
 * when data_dir already has a store or keys, unless force (they are then
 * moved aside to store.replaced-TIME, keys.replaced-TIME). 0 or -1. */
int backup_restore(const char *file, const unsigned char *key,
    const char *data_dir, int force, struct backup_report *rep, char *err,
    size_t errlen);

#endif
