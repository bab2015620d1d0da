/* test_checkpoint.c - state checkpoints: a stream cut in two by checkpoint + restore gives
 * exactly the alerts of the uninterrupted stream (same or different shard counts, patterns
 * spanning the cut, cooldowns kept); another format version is refused; a truncated or
 * corrupted newest file falls back to the previous one; nothing valid is an error, not a crash. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "checkpoint_format.h"
#include "test_support.h"
#include "vigil/checkpoint.h"
#include "vigil/config.h"
#include "vigil/ingest.h"

#define T0 1704067200000LL
#define MIN_MS 60000LL

/* ---- a deterministic mixed stream ------------------------------------------------------ */

struct stream {
    char **lines;
    size_t n, cap;
};

static void add(struct stream *s, const char *id, int64_t ts, const char *from, const char *to, long amount) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->lines = realloc(s->lines, s->cap * sizeof *s->lines);
    }
    char buf[512];
    snprintf(buf, sizeof buf, "{\"id\":\"%s\",\"ts\":%lld,\"from\":\"%s\",\"to\":\"%s\",\"amount\":\"%ld\",\"currency\":\"USD\"}",
             id, (long long)ts, from, to, amount);
    s->lines[s->n++] = strdup(buf);
}

static void stream_free(struct stream *s) {
    for (size_t i = 0; i < s->n; i++) free(s->lines[i]);
    free(s->lines);
}

/* Random transfers among 120 accounts (some large: graph edges), with a fan_in into HUB, a
 * cycle R1->R2->R3->R1 and structuring-sized deposits interleaved, all spread over the whole
 * stream so any cut splits them. */
static struct stream make_stream(size_t n) {
    struct stream s = {0};
    uint64_t x = 88172645463325252ULL;
    int64_t ts = T0;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ts += (int64_t)(x % 7) * MIN_MS;
        char id[32], from[16], to[16];
        snprintf(id, sizeof id, "x%zu", i);
        int a = (int)(x >> 8) % 120, b = (int)(x >> 20) % 120;
        if (a == b) b = (b + 1) % 120;
        snprintf(from, sizeof from, "A%d", a);
        snprintf(to, sizeof to, "A%d", b);
        long amount = (x >> 32) % 4 == 0 ? 20000 + (long)((x >> 40) % 30000) : 50 + (long)((x >> 40) % 900);
        add(&s, id, ts, from, to, amount);
        if (i % (n / 10) == 3) { /* one more fan_in sender */
            char snd[24];
            snprintf(id, sizeof id, "f%zu", i);
            snprintf(snd, sizeof snd, "S%zu", i);
            add(&s, id, ts, snd, "HUB", 1500);
        }
        if (i == n / 3 || i == n / 2 || i == 2 * n / 3) { /* a ring across the middle */
            const char *ring[] = {"R1", "R2", "R3", "R1"};
            int hop = i == n / 3 ? 0 : i == n / 2 ? 1 : 2;
            snprintf(id, sizeof id, "r%d", hop);
            add(&s, id, ts, ring[hop], ring[hop + 1], 60000);
        }
    }
    return s;
}

/* ---- running the engine with a cut ----------------------------------------------------- */

struct run {
    struct vg_test_alerts alerts;
    char position[128];
    size_t position_len;
    uint64_t accounts;
};

static int collect(void *opaque, const struct vg_alert_record *r) {
    struct vg_test_alerts *a = opaque;
    a->lines = realloc(a->lines, (a->count + 1) * sizeof *a->lines);
    /* detected_at is wall time: blank it so runs compare. */
    char *line = strndup(r->json, r->json_len);
    char *d = strstr(line, "\"detected_at\":");
    if (d)
        for (d += 14; *d >= '0' && *d <= '9'; d++) *d = '0';
    a->lines[a->count++] = line;
    return 0;
}

static const char *part_yaml; /* the config of run_part's engines; NULL: the defaults */

static struct vg_config *config(int threads) {
    struct vg_config *cfg = calloc(1, sizeof *cfg);
    char err[1024] = "";
    if (part_yaml) cr_assert_eq(vg_config_load_buffer(cfg, "test", part_yaml, strlen(part_yaml), err, sizeof err), VG_OK, "%s", err);
    else cr_assert_eq(vg_config_defaults(cfg), VG_OK);
    cfg->engine.threads = threads;
    return cfg;
}

/* Feeds lines [from, to) into a (restored) engine, checkpoints at the end into dir (unless
 * dir is NULL) with position "upto=<to>", stops. Returns VG_OK or the start error. */
static int run_part(const struct stream *s, size_t from, size_t to, int threads, const char *dir,
                    struct run *out, bool write) {
    struct vg_config *cfg = config(threads);
    struct vg_alert_sink sink = {.opaque = &out->alerts, .on_alert = collect};
    struct vg_engine *e;
    char err[1024] = "";
    out->position_len = sizeof out->position;
    int rc = dir ? vg_engine_start_restored(&e, cfg, &sink, dir, out->position, &out->position_len, err, sizeof err)
                 : vg_engine_start(&e, cfg, &sink, err, sizeof err);
    if (rc != VG_OK) {
        cr_log_info("start: %s", err);
        vg_config_free(cfg);
        free(cfg);
        return rc;
    }
    struct vg_engine_stats st;
    vg_engine_stats(e, &st);
    out->accounts = st.tracked_accounts;
    for (size_t i = from; i < to; i++) {
        struct vg_txn t;
        struct vg_parse_error pe;
        cr_assert_eq(vg_ndjson_parse(s->lines[i], strlen(s->lines[i]), &cfg->currency, &t, &pe), VG_OK, "%s", pe.detail);
        t.seq = vg_engine_next_seq(e);
        vg_engine_submit(e, &t, 0);
    }
    if (dir && write) {
        vg_engine_drain(e);
        char pos[64];
        int n = snprintf(pos, sizeof pos, "upto=%zu", to);
        struct vg_snapshot *snap = NULL;
        cr_assert_eq(vg_engine_snapshot(e, pos, (size_t)n, &snap), VG_OK);
        cr_assert_eq(vg_checkpoint_write_sync(dir, snap, err, sizeof err), VG_OK, "%s", err);
        vg_snapshot_free(snap);
    }
    cr_assert_eq(vg_engine_stop(e), VG_OK);
    vg_config_free(cfg);
    free(cfg);
    return VG_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *fresh_dir(void) {
    char templ[] = "/tmp/vigil-ckpt-XXXXXX";
    cr_assert_not_null(mkdtemp(templ));
    return strdup(templ);
}

static void remove_dir(char *dir) {
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
    free(dir);
}

/* The alerts of a run cut in two (a then b) equal the uninterrupted run's, as sorted lines. */
static void expect_split_is_whole(struct vg_test_alerts *a, struct vg_test_alerts *b, struct vg_test_alerts *whole) {
    size_t total = a->count + b->count;
    char **split = malloc((total ? total : 1) * sizeof *split);
    memcpy(split, a->lines, a->count * sizeof *split);
    memcpy(split + a->count, b->lines, b->count * sizeof *split);
    qsort(split, total, sizeof *split, cmp_str);
    qsort(whole->lines, whole->count, sizeof *split, cmp_str);
    cr_expect_gt(whole->count, 3, "the stream has alerts (%zu)", whole->count);
    cr_expect_eq(total, whole->count, "alerts: %zu split vs %zu whole", total, whole->count);
    for (size_t i = 0; i < VG_MIN(total, whole->count); i++) cr_expect_str_eq(split[i], whole->lines[i]);
    free(split);
}

/* The alerts of the whole stream in one run vs. cut at `cut` with a restart. */
static void expect_same_alerts(size_t n, size_t cut, int threads_a, int threads_b) {
    struct stream s = make_stream(n);
    struct run whole = {0}, a = {0}, b = {0};
    cr_assert_eq(run_part(&s, 0, s.n, 1, NULL, &whole, false), VG_OK);
    char *dir = fresh_dir();
    cr_assert_eq(run_part(&s, 0, cut, threads_a, dir, &a, true), VG_OK);
    cr_expect_eq(a.position_len, 0, "empty dir: no position");
    cr_assert_eq(run_part(&s, cut, s.n, threads_b, dir, &b, false), VG_OK);
    cr_expect_eq(b.position_len, strlen("upto=") + (size_t)snprintf(NULL, 0, "%zu", cut));
    char want[64];
    snprintf(want, sizeof want, "upto=%zu", cut);
    cr_expect(b.position_len && memcmp(b.position, want, b.position_len) == 0, "position round trip");
    cr_expect_gt(b.accounts, 100, "restored accounts are tracked (%llu)", (unsigned long long)b.accounts);

    expect_split_is_whole(&a.alerts, &b.alerts, &whole.alerts);
    cr_expect_eq(vg_test_count(&b.alerts, "fan_in", "HUB") + vg_test_count(&a.alerts, "fan_in", "HUB"),
                 vg_test_count(&whole.alerts, "fan_in", "HUB"));
    vg_test_alerts_free(&whole.alerts);
    vg_test_alerts_free(&a.alerts);
    vg_test_alerts_free(&b.alerts);
    remove_dir(dir);
    stream_free(&s);
}

Test(checkpoint, round_trip_same_shards) { expect_same_alerts(4000, 2000, 1, 1); }
Test(checkpoint, restore_into_more_shards) { expect_same_alerts(4000, 1700, 1, 4); }
Test(checkpoint, restore_into_fewer_shards) { expect_same_alerts(4000, 2600, 3, 2); }

Test(checkpoint, fan_in_spanning_the_restart_fires) {
    struct stream s = {0};
    for (int i = 0; i < 8; i++) {
        char id[16], from[16];
        snprintf(id, sizeof id, "t%d", i);
        snprintf(from, sizeof from, "S%d", i);
        add(&s, id, T0 + i * 60 * MIN_MS, from, "HUB", 1000);
    }
    char *dir = fresh_dir();
    struct run a = {0}, b = {0};
    cr_assert_eq(run_part(&s, 0, 4, 2, dir, &a, true), VG_OK);
    cr_assert_eq(run_part(&s, 4, 8, 3, dir, &b, false), VG_OK);
    cr_expect_eq(vg_test_count(&a.alerts, "fan_in", NULL), 0);
    cr_expect_eq(vg_test_count(&b.alerts, "fan_in", "HUB"), 1);
    vg_test_alerts_free(&a.alerts);
    vg_test_alerts_free(&b.alerts);
    remove_dir(dir);
    stream_free(&s);
}

/* Rule sanctions keeps its cooldown per (account, list entry): a restart from the
 * checkpoint does not repeat the alert within the cooldown, other accounts and other entries
 * still alert, and after the cooldown the same pair alerts again. */
Test(checkpoint, sanctions_cooldown_survives_restart) {
    part_yaml = "rules:\n  sanctions:\n    lists:\n"
                "      - {name: un, file: " VG_TEST_DATA "/sanctions/un_small.xml, format: un-xml}\n";
    struct stream s = {0};
    static const struct { int64_t at_h; const char *from, *name; } txns[] = {
        {0, "A", "Muhammad Taher Anwari"},      /* part 1: alerts */
        {1, "A", "Mohamad Tahir Anwari"},       /* part 2, after the restart: A cools for TAi.005 */
        {2, "Z", "Muhammad Taher Anwari"},      /* another account: alerts */
        {3, "A", "Aleksandr Shcherbakov"},      /* another entry: alerts */
        {25, "A", "Muhammad Taher Anwari"},     /* part 3: the cooldown (24 h) is over */
    };
    for (size_t i = 0; i < sizeof txns / sizeof *txns; i++) {
        char line[512];
        snprintf(line, sizeof line,
                 "{\"id\":\"s%zu\",\"ts\":%lld,\"from\":\"%s\",\"to\":\"B\",\"amount\":\"10\",\"currency\":\"USD\","
                 "\"from_name\":\"%s\"}",
                 i, (long long)(T0 + txns[i].at_h * 60 * MIN_MS), txns[i].from, txns[i].name);
        if (s.n == s.cap) s.lines = realloc(s.lines, (s.cap = s.cap ? s.cap * 2 : 8) * sizeof *s.lines);
        s.lines[s.n++] = strdup(line);
    }
    char *dir = fresh_dir();
    struct run a = {0}, b = {0}, c = {0};
    cr_assert_eq(run_part(&s, 0, 1, 2, dir, &a, true), VG_OK);
    cr_assert_eq(run_part(&s, 1, 4, 3, dir, &b, true), VG_OK);
    cr_assert_eq(run_part(&s, 4, 5, 1, dir, &c, false), VG_OK);
    cr_expect_eq(vg_test_count(&a.alerts, "sanctions", "A"), 1);
    cr_expect_eq(vg_test_count(&b.alerts, "sanctions", "A"), 1, "only the other entry: TAi.005 is cooling");
    cr_expect_eq(vg_test_count(&b.alerts, "sanctions", "Z"), 1);
    for (size_t i = 0; i < b.alerts.count; i++)
        if (strstr(b.alerts.lines[i], "\"account\":\"A\"")) cr_expect(strstr(b.alerts.lines[i], "TSi.001"), "%s", b.alerts.lines[i]);
    cr_expect_eq(vg_test_count(&c.alerts, "sanctions", "A"), 1, "after the cooldown, TAi.005 again");
    part_yaml = NULL;
    vg_test_alerts_free(&a.alerts);
    vg_test_alerts_free(&b.alerts);
    vg_test_alerts_free(&c.alerts);
    remove_dir(dir);
    stream_free(&s);
}

/* ---- refusals and fallbacks ------------------------------------------------------------ */

static char *newest_file(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *de;
    unsigned long best = 0;
    while ((de = readdir(d)) != NULL) {
        unsigned long n;
        if (sscanf(de->d_name, "checkpoint.%lu.vgc", &n) == 1 && n > best) best = n;
    }
    closedir(d);
    char *p = malloc(512);
    snprintf(p, 512, "%s/checkpoint.%lu.vgc", dir, best);
    return p;
}

static size_t count_files(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;
    while ((de = readdir(d)) != NULL) n += strstr(de->d_name, ".vgc") != NULL;
    closedir(d);
    return n;
}

/* Two checkpoints: after line 1000 and after 2000. Returns the dir. */
static char *two_checkpoints(struct stream *s) {
    *s = make_stream(3000);
    char *dir = fresh_dir();
    struct run a = {0}, b = {0}, c = {0};
    cr_assert_eq(run_part(s, 0, 500, 1, dir, &a, true), VG_OK);
    cr_assert_eq(run_part(s, 500, 1000, 2, dir, &b, true), VG_OK);
    cr_assert_eq(run_part(s, 1000, 2000, 2, dir, &c, true), VG_OK);
    cr_expect_eq(count_files(dir), 2, "only the newest two are kept");
    vg_test_alerts_free(&a.alerts);
    vg_test_alerts_free(&b.alerts);
    vg_test_alerts_free(&c.alerts);
    return dir;
}

static void expect_restores_position(const struct stream *s, const char *dir, const char *want) {
    struct run r = {0};
    cr_assert_eq(run_part(s, 0, 0, 2, dir, &r, false), VG_OK);
    cr_expect_eq(r.position_len, strlen(want));
    cr_expect(memcmp(r.position, want, strlen(want)) == 0, "restored %.*s, want %s", (int)r.position_len,
              r.position, want);
    vg_test_alerts_free(&r.alerts);
}

Test(checkpoint, truncated_newest_falls_back_to_previous) {
    struct stream s;
    char *dir = two_checkpoints(&s);
    char *newest = newest_file(dir);
    struct stat st;
    cr_assert_eq(stat(newest, &st), 0);
    cr_assert_eq(truncate(newest, st.st_size / 2), 0);
    expect_restores_position(&s, dir, "upto=1000");
    free(newest);
    remove_dir(dir);
    stream_free(&s);
}

Test(checkpoint, corrupted_newest_falls_back_to_previous) {
    struct stream s;
    char *dir = two_checkpoints(&s);
    char *newest = newest_file(dir);
    int fd = open(newest, O_RDWR);
    struct stat st;
    fstat(fd, &st);
    unsigned char byte;
    off_t at = st.st_size * 2 / 3;
    cr_assert_eq(pread(fd, &byte, 1, at), 1);
    byte ^= 0x40;
    cr_assert_eq(pwrite(fd, &byte, 1, at), 1);
    close(fd);
    expect_restores_position(&s, dir, "upto=1000");
    free(newest);
    remove_dir(dir);
    stream_free(&s);
}

Test(checkpoint, nothing_valid_is_an_error_not_a_crash) {
    struct stream s;
    char *dir = two_checkpoints(&s);
    DIR *d = opendir(dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strstr(de->d_name, ".vgc")) continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        cr_assert_eq(truncate(p, 100), 0);
    }
    closedir(d);
    struct run r = {0};
    cr_expect_eq(run_part(&s, 0, 0, 1, dir, &r, false), VG_ERR_INVALID);
    remove_dir(dir);
    stream_free(&s);
}

Test(checkpoint, other_format_version_is_refused) {
    struct stream s;
    char *dir = two_checkpoints(&s);
    char *newest = newest_file(dir);
    size_t len;
    char *buf = vg_test_read_file(newest, &len);
    cr_assert_not_null(buf);
    struct ckpt_header h;
    memcpy(&h, buf, sizeof h);
    h.version = VG_CHECKPOINT_VERSION + 1;
    h.header_hash = XXH3_64bits(&h, offsetof(struct ckpt_header, header_hash)); /* a valid v2 header */
    memcpy(buf, &h, sizeof h);
    FILE *f = fopen(newest, "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
    struct vg_config *cfg = config(1);
    struct vg_test_alerts alerts = {0};
    struct vg_alert_sink sink = {.opaque = &alerts, .on_alert = collect};
    struct vg_engine *e = NULL;
    char err[1024] = "", pos[64];
    size_t pos_len = sizeof pos;
    cr_expect_eq(vg_engine_start_restored(&e, cfg, &sink, dir, pos, &pos_len, err, sizeof err), VG_ERR_INVALID);
    char want[64];
    snprintf(want, sizeof want, "format version %u", VG_CHECKPOINT_VERSION + 1);
    cr_expect(strstr(err, want) != NULL, "message names the version: %s", err);
    snprintf(want, sizeof want, "versions %u to %u", VG_CHECKPOINT_VERSION_MIN, VG_CHECKPOINT_VERSION);
    cr_expect(strstr(err, want) != NULL, "message names the supported versions: %s", err);
    vg_config_free(cfg);
    free(cfg);
    free(buf);
    free(newest);
    remove_dir(dir);
    stream_free(&s);
}

Test(checkpoint, leftover_tmp_from_a_crash_is_ignored) {
    struct stream s;
    char *dir = two_checkpoints(&s);
    char p[512];
    snprintf(p, sizeof p, "%s/checkpoint.tmp", dir);
    FILE *f = fopen(p, "wb");
    fputs("half a checkpoint", f);
    fclose(f);
    expect_restores_position(&s, dir, "upto=2000");
    remove_dir(dir);
    stream_free(&s);
}

/* The input identity a checkpoint records reaches the restore check before anything is
 * restored; a refusal starts nothing and says why, naming the directory and the file. */
struct seen_source {
    char source[256];
    char position[64];
    bool accept;
};

static bool record_source(void *opaque, const char *source, const char *position, size_t len, char *why,
                          size_t why_size) {
    struct seen_source *seen = opaque;
    snprintf(seen->source, sizeof seen->source, "%s", source);
    snprintf(seen->position, sizeof seen->position, "%.*s", (int)len, position);
    if (!seen->accept) snprintf(why, why_size, "belongs to another input");
    return seen->accept;
}

Test(checkpoint, source_is_recorded_and_checked_before_restore) {
    char *dir = fresh_dir();
    struct vg_config *cfg = config(2);
    struct vg_test_alerts alerts = {0};
    struct vg_alert_sink sink = {.opaque = &alerts, .on_alert = collect};
    struct vg_engine *e = NULL;
    char err[1024] = "", pos[64];
    cr_assert_eq(vg_engine_start(&e, cfg, &sink, err, sizeof err), VG_OK, "%s", err);
    struct vg_snapshot *snap = NULL;
    cr_assert_eq(vg_engine_snapshot_of(e, "kafka cluster=c1 bootstrap=k:9092 topic=t group=g", "kafka1 t 0:5", 12,
                                       &snap), VG_OK);
    cr_assert_eq(vg_checkpoint_write_sync(dir, snap, err, sizeof err), VG_OK, "%s", err);
    vg_snapshot_free(snap);
    cr_assert_eq(vg_engine_stop(e), VG_OK);

    struct seen_source seen = {.accept = false};
    struct vg_restore_check check = {.accept = record_source, .opaque = &seen};
    size_t pos_len = sizeof pos;
    e = NULL;
    cr_expect_eq(vg_engine_start_checked(&e, cfg, &sink, dir, &check, pos, &pos_len, err, sizeof err),
                 VG_ERR_INVALID);
    cr_expect_null(e);
    cr_expect_str_eq(seen.source, "kafka cluster=c1 bootstrap=k:9092 topic=t group=g");
    cr_expect_str_eq(seen.position, "kafka1 t 0:5");
    cr_expect(strstr(err, "state.dir ") == err && strstr(err, "checkpoint.1.vgc belongs to another input"),
              "one line naming the directory and file: %s", err);

    seen.accept = true;
    pos_len = sizeof pos;
    cr_expect_eq(vg_engine_start_checked(&e, cfg, &sink, dir, &check, pos, &pos_len, err, sizeof err), VG_OK,
                 "%s", err);
    cr_expect_eq(pos_len, 12);
    cr_expect_eq(vg_engine_stop(e), VG_OK);
    vg_config_free(cfg);
    free(cfg);
    remove_dir(dir);
}

/* A version-1 image (written before checkpoints recorded their input) still loads: the
 * check sees an empty identity and its position, and decides. */
Test(checkpoint, version_1_reaches_the_check_without_identity) {
    struct stream s;
    char *dir = two_checkpoints(&s);
    char *newest = newest_file(dir);
    size_t len;
    char *buf = vg_test_read_file(newest, &len);
    cr_assert_not_null(buf);
    struct ckpt_header h;
    memcpy(&h, buf, sizeof h);
    h.version = 1;
    h.header_hash = XXH3_64bits(&h, offsetof(struct ckpt_header, header_hash));
    memcpy(buf, &h, sizeof h);
    FILE *f = fopen(newest, "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
    struct vg_config *cfg = config(1);
    struct vg_test_alerts alerts = {0};
    struct vg_alert_sink sink = {.opaque = &alerts, .on_alert = collect};
    struct vg_engine *e = NULL;
    char err[1024] = "", pos[64];
    size_t pos_len = sizeof pos;
    struct seen_source seen = {.accept = true, .source = "unset"};
    struct vg_restore_check check = {.accept = record_source, .opaque = &seen};
    cr_expect_eq(vg_engine_start_checked(&e, cfg, &sink, dir, &check, pos, &pos_len, err, sizeof err), VG_OK, "%s",
                 err);
    cr_expect_str_eq(seen.source, "");
    cr_expect(strncmp(seen.position, "upto=", 5) == 0, "position: %s", seen.position);
    if (e) cr_expect_eq(vg_engine_stop(e), VG_OK);
    vg_config_free(cfg);
    free(cfg);
    free(buf);
    free(newest);
    remove_dir(dir);
    stream_free(&s);
}

/* Distributed mode's task images (vg_engine_snapshot_task): the state cut into 3 account
 * tasks and the graph task, restored together into a fresh engine, continues exactly as the
 * uninterrupted run; each image alone holds only its task's accounts. */
Test(checkpoint, task_images_restore_together_as_the_whole) {
    enum { TASKS = 3, N = 4000, CUT = 1900 };
    struct stream s = make_stream(N);
    struct run whole = {0}, a = {0}, b = {0};
    cr_assert_eq(run_part(&s, 0, s.n, 1, NULL, &whole, false), VG_OK);

    struct vg_config *cfg = config(2);
    struct vg_alert_sink sink_a = {.opaque = &a.alerts, .on_alert = collect};
    struct vg_engine *e;
    char err[1024] = "";
    cr_assert_eq(vg_engine_start(&e, cfg, &sink_a, err, sizeof err), VG_OK, "%s", err);
    for (size_t i = 0; i < CUT; i++) {
        struct vg_txn t;
        struct vg_parse_error pe;
        cr_assert_eq(vg_ndjson_parse(s.lines[i], strlen(s.lines[i]), &cfg->currency, &t, &pe), VG_OK);
        t.seq = vg_engine_next_seq(e);
        vg_engine_submit(e, &t, 0);
    }
    vg_engine_drain(e);
    struct vg_engine_stats before;
    vg_engine_stats(e, &before);
    void *img[TASKS + 1];
    size_t len[TASKS + 1];
    for (int task = 0; task <= TASKS; task++) {
        struct vg_snapshot *snap = NULL;
        cr_assert_eq(vg_engine_snapshot_task(e, task, TASKS, "", "p", 1, &snap), VG_OK);
        const void *bytes = vg_snapshot_image(snap, &len[task]);
        img[task] = malloc(len[task]);
        memcpy(img[task], bytes, len[task]);
        vg_snapshot_free(snap);
    }
    uint64_t next = vg_engine_next_seq(e);
    cr_assert_eq(vg_engine_stop(e), VG_OK);

    /* One task alone: only its own accounts. */
    struct vg_test_alerts none = {0};
    struct vg_alert_sink sink_none = {.opaque = &none, .on_alert = collect};
    cr_assert_eq(vg_engine_start_images(&e, cfg, &sink_none, (const void *const *)img, len, 1, 0, err, sizeof err), VG_OK,
                 "%s", err);
    struct vg_engine_stats one;
    vg_engine_stats(e, &one);
    cr_expect_gt(one.tracked_accounts, 0);
    cr_expect_lt(one.tracked_accounts, before.tracked_accounts * 2 / 3, "task 0 holds %llu of %llu accounts",
                 (unsigned long long)one.tracked_accounts, (unsigned long long)before.tracked_accounts);
    cr_expect_eq(one.graph_edges, 0);
    cr_assert_eq(vg_engine_stop(e), VG_OK);

    /* All of them: the whole state, and the run goes on as if never cut. */
    struct vg_alert_sink sink_b = {.opaque = &b.alerts, .on_alert = collect};
    cr_assert_eq(vg_engine_start_images(&e, cfg, &sink_b, (const void *const *)img, len, TASKS + 1, 0, err, sizeof err),
                 VG_OK, "%s", err);
    struct vg_engine_stats all;
    vg_engine_stats(e, &all);
    cr_expect_eq(all.tracked_accounts, before.tracked_accounts);
    cr_expect_eq(all.window_events, before.window_events);
    cr_expect_eq(vg_engine_next_seq(e), next);
    for (size_t i = CUT; i < s.n; i++) {
        struct vg_txn t;
        struct vg_parse_error pe;
        cr_assert_eq(vg_ndjson_parse(s.lines[i], strlen(s.lines[i]), &cfg->currency, &t, &pe), VG_OK);
        t.seq = vg_engine_next_seq(e);
        vg_engine_submit(e, &t, 0);
    }
    cr_assert_eq(vg_engine_stop(e), VG_OK);

    cr_expect_gt(b.alerts.count, 0, "alerts after the restore");
    expect_split_is_whole(&a.alerts, &b.alerts, &whole.alerts);
    for (int task = 0; task <= TASKS; task++) free(img[task]);
    vg_test_alerts_free(&whole.alerts);
    vg_test_alerts_free(&a.alerts);
    vg_test_alerts_free(&b.alerts);
    vg_test_alerts_free(&none);
    vg_config_free(cfg);
    free(cfg);
    stream_free(&s);
}
