/* checkpoint_format.h - the on-disk layout of checkpoint.<N>.vgc shared by the snapshot
 * encoder/decoder (checkpoint.c) and the file writer/loader (checkpoint_io.c), and the file
 * steps the checkpointer (checkpoint_writer.c) strings together. Not a public API.
 *
 * File: header (64 bytes) | section table (n x 40 bytes) | sections, each 8-byte aligned.
 * Integers are the writer's native byte order; `endian` (0x01020304) lets a reader on the
 * other byte order refuse the file. Every section and the table carry an XXH3-64 hash; the
 * header hashes itself. Nothing depends on the shard count: accounts are re-routed by
 * vg_hash64_id(id) % shards on load. */
#ifndef VIGIL_CHECKPOINT_FORMAT_H
#define VIGIL_CHECKPOINT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/checkpoint.h"

#define CKPT_MAGIC "VIGILCKP"
#define CKPT_ENDIAN 0x01020304u

struct ckpt_header {
    char magic[8];
    uint32_t version;          /* VG_CHECKPOINT_VERSION (1: no SOURCE, 1-2: no KEYED_COOLDOWNS) */
    uint32_t endian;           /* CKPT_ENDIAN as written */
    uint32_t n_sections;
    uint32_t header_size;      /* sizeof(struct ckpt_header) */
    uint64_t created_wall_ms;
    uint64_t next_seq;         /* the engine's next seq */
    int64_t newest_ms;         /* newest event time routed */
    uint64_t table_hash;       /* XXH3-64 of the section table */
    uint64_t header_hash;      /* XXH3-64 of the bytes before this field */
};
_Static_assert(sizeof(struct ckpt_header) == 64, "header layout");

enum ckpt_section_type {
    CKPT_SEC_INPUT = 1,        /* opaque input position */
    CKPT_SEC_ACCOUNTS = 2,     /* struct ckpt_account + id, all shards concatenated */
    CKPT_SEC_EVENTS = 3,       /* struct ckpt_event + text, per old shard in arrival order */
    CKPT_SEC_COOLDOWNS = 4,    /* struct ckpt_cooldown + id */
    CKPT_SEC_GRAPH = 5,        /* struct ckpt_edge + ids, arrival order */
    CKPT_SEC_SOURCE = 6,       /* identity of the input (version 2): text, length in `reserved` */
    CKPT_SEC_KEYED_COOLDOWNS = 7, /* struct ckpt_keyed_cooldown + account + discriminator (version 3) */
    CKPT_SEC_EVIDENCE = 8,     /* struct ckpt_evidence + id + json (alerts.evidence: full); a
                                * reader without it ignores the section */
    CKPT_SEC_MAX
};

struct ckpt_section {
    uint32_t type;
    uint32_t reserved;
    uint64_t offset;           /* from the start of the file */
    uint64_t length;
    uint64_t count;            /* records */
    uint64_t hash;             /* XXH3-64 of the section's bytes */
};
_Static_assert(sizeof(struct ckpt_section) == 40, "section layout");

/* Records: fixed part, then the variable bytes, padded to 8. */
struct ckpt_account {
    int64_t first_seen_ms;
    int64_t last_seen_ms;
    int32_t activity_newest_bucket;
    uint32_t activity_bucket_minutes;
    uint16_t activity_counts[32];
    uint8_t id_len;
    uint8_t reserved[7];
    /* id */
};
_Static_assert(sizeof(struct ckpt_account) == 96, "account record layout");

struct ckpt_event {
    int64_t ts_ms;
    int64_t amount_micros;
    int64_t newest_at_ms;
    uint64_t seq;
    uint64_t counterparty_hash;
    uint32_t account;          /* index in the ACCOUNTS section */
    uint8_t dir;
    uint8_t counterparty_len;
    uint8_t tx_id_len;
    uint8_t reserved;
    /* counterparty, tx id */
};
_Static_assert(sizeof(struct ckpt_event) == 48, "event record layout");

struct ckpt_cooldown {
    int64_t last_alert_ts;
    uint8_t graph_stage;       /* 1: the graph stage's table, 0: the owning account's shard */
    uint8_t rule;
    uint8_t account_len;
    uint8_t reserved[5];
    /* account */
};
_Static_assert(sizeof(struct ckpt_cooldown) == 16, "cooldown record layout");

/* A cooldown of a rule that keeps one per (account, discriminator): sanctions, per list
 * entry ("list\0reference"). */
struct ckpt_keyed_cooldown {
    int64_t last_alert_ts;
    int64_t late_alert_ts;     /* VG_TS_NONE when none */
    uint8_t graph_stage;       /* as in struct ckpt_cooldown */
    uint8_t rule;
    uint8_t account_len;
    uint8_t reserved;
    uint16_t disc_len;
    uint8_t reserved2[2];
    /* account, discriminator */
};
_Static_assert(sizeof(struct ckpt_keyed_cooldown) == 24, "keyed cooldown record layout");

struct ckpt_edge {
    int64_t ts_ms;
    int64_t amount_micros;
    uint64_t seq;
    uint8_t from_len, to_len, tx_id_len;
    uint8_t reserved[5];
    /* from, to, tx id */
};
_Static_assert(sizeof(struct ckpt_edge) == 32, "edge record layout");

struct ckpt_evidence {
    int64_t newest_ms;
    uint64_t seq;
    uint64_t from_hash, to_hash;
    uint16_t json_len;
    uint8_t id_len;
    uint8_t graph_stage;       /* 1: the graph stage's store, 0: the accounts' shards' */
    uint8_t reserved[4];
    /* id, json */
};
_Static_assert(sizeof(struct ckpt_evidence) == 40, "evidence record layout");

static inline size_t ckpt_pad8(size_t n) { return (n + 7u) & ~(size_t)7u; }

/* A snapshot: the complete file image; hashes are filled in by ckpt_seal (writer side). */
struct vg_snapshot {
    unsigned char *buf;
    size_t len, cap;
    int64_t copy_ns;
    bool sealed;
};

/* Computes the section, table and header hashes into the image. Can't fail. */
void ckpt_seal(struct vg_snapshot *s);

/* Checks a whole file image. Returns VG_OK, VG_ERR_RANGE (other format version or byte
 * order: refuse) or VG_ERR_INVALID (corrupt/truncated), with errstr. On success *sections
 * points into buf (type-indexed, NULL where absent). */
int ckpt_validate(const unsigned char *buf, size_t len, const struct ckpt_section *sections[CKPT_SEC_MAX],
                  char *errstr, size_t errstr_size);

/* Loads the newest valid checkpoint file of dir into a malloc'd buffer. Returns VG_OK,
 * VG_ERR_NOTFOUND (no checkpoint files), VG_ERR_RANGE (version refused) or VG_ERR_INVALID
 * (none valid), with errstr. */
int ckpt_load_newest(const char *dir, unsigned char **buf, size_t *len, char *path_out, size_t path_size,
                     char *errstr, size_t errstr_size);

/* ---- files (checkpoint_io.c) ---------------------------------------------------------- */

/* vg_checkpoint_write_sync's file before its rename; the checkpointer writes
 * checkpoint.<attempt>.pending instead. The loader ignores both; ckpt_remove_stale deletes them. */
#define CKPT_TMP_NAME "checkpoint.tmp"

/* Seals the image and writes it to `path` (created or truncated) with batched io_uring
 * writes, or pwrite when io_uring is refused (*used_pwrite), then fsyncs it. Logs nothing
 * and takes no lock, so a forked child may call it. Returns VG_OK or VG_ERR_IO with errstr
 * (the partial file is removed). */
int ckpt_write_image(const char *path, struct vg_snapshot *s, bool *used_pwrite, char *errstr, size_t errstr_size);
/* Renames a written image to checkpoint.<newest+1>.vgc, fsyncs the directory and removes
 * all but the newest two. Returns VG_OK or VG_ERR_IO with errstr (`written` is removed). */
int ckpt_publish(const char *dir, const char *written, char *errstr, size_t errstr_size);
/* Deletes checkpoint.tmp and checkpoint.*.pending left in dir by a process that died
 * while writing (logged). Can't fail. */
void ckpt_remove_stale(const char *dir);
/* Logs once per process that io_uring was refused and pwrite is used. */
void ckpt_note_pwrite(void);

/* ---- tests (checkpoint_writer.c) ------------------------------------------------------- */

/* Makes the next forked checkpoint children stop themselves (SIGSTOP) right after the fork,
 * before encoding, so a test can change the parent's state or kill the child at a known
 * point. Off by default. */
void ckpt_test_stop_children(vg_checkpointer_t *c, bool stop);

#endif
