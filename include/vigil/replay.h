/* replay.h - replay mode: read a transaction file (or stdin) in NDJSON or AMLworld CSV,
 * run it through the engine, write alerts and dead letters to files. The same engine as
 * Kafka mode; only the input and output ends differ. */
#ifndef VIGIL_REPLAY_H
#define VIGIL_REPLAY_H

#include "vigil/daemon.h"
#include "vigil/ingest.h"

struct vg_replay_options {
    const char *input;          /* path or "-" for stdin */
    enum vg_format format;
    const char *output;         /* path or "-" for stdout */
    const char *dead_letter;    /* path, or NULL: dead letters are only counted and logged */
    bool text;                  /* alerts as readable lines (--output-format text), else NDJSON */
    const char *state_dir;      /* checkpoint directory (--state-dir), or NULL: no state read or
                                 * written (a replay never uses the config's state.dir by itself) */
};

/* Runs until end of input (or d->stop_requested), then drains: every alert is written
 * before it returns. With state_dir, resumes from its checkpoint only if that checkpoint
 * belongs to this input (replay_source.h), else refuses to start. Returns the process exit
 * code: 0 ok, 1 usage (cannot open a file, a checkpoint of another input), 2 runtime failure
 * (write error, not one record readable); errstr says why. */
int vg_replay_run(struct vg_daemon *d, const struct vg_replay_options *opt, char *errstr, size_t errstr_size);

#endif
