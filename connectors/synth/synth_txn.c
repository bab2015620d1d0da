/* synth_txn.c - turns a generated record into the engine's vg_txn (base-currency amount,
 * id = seq + 1), for tests and the demo mode that feed the engine without a parser.
 * Kept apart from synth.c so vigil-gen links without the currency module. */
#include "synth/synth_internal.h"

#include <string.h>

#include "vigil/money.h"

int vg_synth_to_txn(const struct vg_synth_txn *t, const struct vg_currency_table *rates, struct vg_txn *out) {
    int64_t rate;
    if (vg_currency_rate(rates, t->currency, strlen(t->currency), &rate) != VG_OK) return VG_ERR_NOTFOUND;
    int64_t base;
    if (vg_money_convert(t->amount_micros, rate, &base) != VG_OK) return VG_ERR_RANGE;
    vg_txn_clear(out);
    out->seq = t->seq;
    out->ts_ms = t->ts_ms;
    out->amount_micros = base;
    char id[24];
    char *p = id + sizeof id;
    uint64_t v = t->seq + 1;
    do *--p = (char)('0' + v % 10), v /= 10;
    while (v);
    out->id_len = (uint8_t)(id + sizeof id - p);
    memcpy(out->id, p, out->id_len);
    out->from_len = t->from_len;
    memcpy(out->from, t->from, t->from_len);
    out->to_len = t->to_len;
    memcpy(out->to, t->to, t->to_len);
    size_t ch = strlen(t->channel);
    if (ch > VG_CHANNEL_MAX) ch = VG_CHANNEL_MAX;
    out->channel_len = (uint8_t)ch;
    memcpy(out->channel, t->channel, ch);
    if (t->from_country[0]) memcpy(out->from_country, t->from_country, 2);
    if (t->to_country[0]) memcpy(out->to_country, t->to_country, 2);
    if (t->from_name[0] || t->to_name[0]) {
        vg_txn_party_begin(out);
        size_t fl = strlen(t->from_name), tl = strlen(t->to_name);
        out->from_name_len = (uint16_t)fl;
        memcpy(out->from_name, t->from_name, fl);
        out->to_name_len = (uint16_t)tl;
        memcpy(out->to_name, t->to_name, tl);
    }
    return VG_OK;
}
