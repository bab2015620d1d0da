/* ingest.h - record parsers: one NDJSON object or one AMLworld CSV line into a vg_txn.
 * Parsers never allocate and never stop on bad input: they return a reason and a
 * one-line detail for the dead-letter sink. The same NDJSON parser serves files and Kafka. */
#ifndef VIGIL_INGEST_H
#define VIGIL_INGEST_H

#include "vigil/txn.h"
#include "vigil/currency.h"

enum vg_format { VG_FORMAT_NDJSON = 0, VG_FORMAT_AMLWORLD_CSV = 1 };

/* Longest accepted record (line or message); longer ones are dead-lettered as oversized. */
#define VG_RECORD_MAX (64 * 1024)

struct vg_parse_error {
    enum vg_reason reason;
    char detail[160];          /* e.g. "field 'amount': 7 decimals, at most 6" */
};

/* Parses one NDJSON object (no trailing newline needed; surrounding white space ok).
 * Strict RFC 8259 JSON and UTF-8; unknown members (any nesting up to 64) are ignored, as
 * are from_bank/to_bank (see vg_ndjson_parse_sent); null counts as absent. A known member given twice is refused as
 * malformed. A syntax error outranks a field error, which outranks a missing field.
 * On success fills *out (seq untouched, unused bytes zero) and returns VG_OK; otherwise
 * returns VG_ERR_INVALID and fills *err. */
int vg_ndjson_parse(const char *rec, size_t len, const struct vg_currency_table *rates,
                    struct vg_txn *out, struct vg_parse_error *err);

/* Same, keeping the fields as sent (amount and currency text, from_bank, to_bank) in
 * out->sent when keep_sent (alerts.evidence: full); vg_ndjson_parse does not. */
int vg_ndjson_parse_sent(const char *rec, size_t len, const struct vg_currency_table *rates, bool keep_sent,
                         struct vg_txn *out, struct vg_parse_error *err);

/* Parses one AMLworld CSV data line. line_no is the 1-based data line number (the header
 * is line 0), used as the transaction id. Same return convention as vg_ndjson_parse. */
int vg_amlworld_parse(const char *rec, size_t len, uint64_t line_no,
                      const struct vg_currency_table *rates, struct vg_txn *out,
                      struct vg_parse_error *err);

/* Same, keeping the columns as sent in out->sent when keep_sent. */
int vg_amlworld_parse_sent(const char *rec, size_t len, uint64_t line_no, const struct vg_currency_table *rates,
                           bool keep_sent, struct vg_txn *out, struct vg_parse_error *err);

/* True when a CSV line is the AMLworld header (so readers can skip it). */
bool vg_amlworld_is_header(const char *rec, size_t len);

#endif
