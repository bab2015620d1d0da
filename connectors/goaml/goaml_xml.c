/* goaml_xml.c - one case as one goAML <report> document (UNODC goAML 5.x structure), the
 * FIU's codes taken from the report: configuration. Writes what real FIU schemas insist on:
 * no namespace on <report>, elements in the schema's sequence order, date-times as
 * YYYY-MM-DDTHH:MM:SS, amounts with exactly two decimals, every string XML-escaped. Whether
 * the FIU accepts the result is the validator's call (validate.c), not this file's. */
#include "vigil/goaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/common.h"
#include "vigil/money.h"

#define REASON_MAX 4000          /* goAML's reason is a 4000-character text */

struct xml {
    char *buf;
    size_t len, cap;
    bool failed;
    int depth;
};

static void grow(struct xml *x, size_t need) {
    if (x->failed || x->cap - x->len >= need) return;
    size_t cap = x->cap ? x->cap : 4096;
    while (cap - x->len < need) cap *= 2;
    char *b = realloc(x->buf, cap);
    if (!b) {
        x->failed = true;
        return;
    }
    x->buf = b;
    x->cap = cap;
}

static void raw(struct xml *x, const char *s, size_t n) {
    grow(x, n + 1);
    if (x->failed) return;
    memcpy(x->buf + x->len, s, n);
    x->len += n;
}

static void rawz(struct xml *x, const char *s) { raw(x, s, strlen(s)); }

static void indent(struct xml *x) {
    for (int i = 0; i < x->depth; i++) raw(x, "  ", 2);
}

static void open_tag(struct xml *x, const char *tag) {
    indent(x);
    rawz(x, "<");
    rawz(x, tag);
    rawz(x, ">\n");
    x->depth++;
}

static void close_tag(struct xml *x, const char *tag) {
    x->depth--;
    indent(x);
    rawz(x, "</");
    rawz(x, tag);
    rawz(x, ">\n");
}

/* Length of a valid UTF-8 sequence at s (1..4) that XML allows, 0 otherwise (U+FFFE and
 * U+FFFF are not XML characters). */
static size_t utf8_len(const unsigned char *s, size_t avail) {
    uint32_t cp;
    size_t n = vg_utf8_decode(s, avail, &cp);
    return n && cp != 0xFFFE && cp != 0xFFFF ? n : 0;
}

size_t vg_xml_escape(const char *s, size_t len, char *buf, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        size_t n = 1;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) rep = "\xEF\xBF\xBD";
            else if (c >= 0x80 && (n = utf8_len((const unsigned char *)s + i, len - i)) == 0) {
                rep = "\xEF\xBF\xBD"; /* not UTF-8: XML cannot carry the byte */
                n = 1;
            }
        }
        const char *src = rep ? rep : s + i;
        size_t w = rep ? strlen(rep) : n;
        if (cap - o < w) return 0;
        memcpy(buf + o, src, w);
        o += w;
        i += n;
    }
    return len == 0 || o > 0 ? o : 0;
}

static void text(struct xml *x, const char *s, size_t n) {
    grow(x, n * 6 + 1);
    if (x->failed) return;
    x->len += vg_xml_escape(s, n, x->buf + x->len, x->cap - x->len);
}

/* <tag>value</tag> on its own line. */
static void leaf(struct xml *x, const char *tag, const char *value) {
    indent(x);
    rawz(x, "<");
    rawz(x, tag);
    rawz(x, ">");
    text(x, value, strlen(value));
    rawz(x, "</");
    rawz(x, tag);
    rawz(x, ">\n");
}

/* Only when value is not empty (optional elements). */
static void leaf_opt(struct xml *x, const char *tag, const char *value) {
    if (value && value[0]) leaf(x, tag, value);
}

/* goAML date-time: YYYY-MM-DDTHH:MM:SS in UTC, no zone suffix, no fraction. */
static void date_time(int64_t ms, char out[24]) {
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* micros rounded half away from zero to cents, written with exactly two decimals. */
static void cents(int64_t micros, char out[32]) {
    bool neg = micros < 0;
    uint64_t m = neg ? (uint64_t)0 - (uint64_t)micros : (uint64_t)micros;
    uint64_t c = (m + 5000) / 10000;
    snprintf(out, 32, "%s%llu.%02llu", neg ? "-" : "", (unsigned long long)(c / 100), (unsigned long long)(c % 100));
}

/* Base-currency amount text (the alert's amount_base) in the local currency, in micros. */
static bool local_micros(const struct vg_currency_table *rates, const char *local, const char *amount_base,
                         int64_t *out) {
    int64_t base;
    if (vg_money_parse_amount(amount_base, strlen(amount_base), &base) != VG_OK) return false;
    if (strcmp(local, rates->base) == 0) {
        *out = base;
        return true;
    }
    int64_t rate; /* 1 local = rate base */
    if (vg_currency_rate(rates, local, strlen(local), &rate) != VG_OK || rate <= 0) return false;
    __int128 v = ((__int128)base * VG_MICROS_PER_UNIT + rate / 2) / rate;
    if (v > INT64_MAX) return false;
    *out = (int64_t)v;
    return true;
}

static const char *code_of(const struct vg_report_map *m, const char *key) {
    const struct vg_report_map_entry *e = vg_report_map_get(m, key, key ? strlen(key) : 0);
    return e ? e->values[0] : "";
}

/* institution_name and swift or institution_code of bank (none configured: left empty
 * for the validator to refuse). */
static void institution(struct xml *x, const struct vg_report_bank *b) {
    leaf(x, "institution_name", b ? b->name : "");
    if (b && b->swift[0]) leaf(x, "swift", b->swift);
    else leaf(x, "institution_code", b ? b->code : "");
}

/* A non-client account (t_account): institution, then the account, in the schema's order. */
static void account(struct xml *x, const struct vg_report_config *r, const char *tag, const char *bank,
                    const char *id, const char *name) {
    open_tag(x, tag);
    institution(x, vg_report_bank_get(r, bank, bank ? strlen(bank) : 0));
    leaf(x, "account", id); /* no currency_code: an account's currency is not the transfer's */
    leaf_opt(x, "account_name", name);
    close_tag(x, tag);
}

/* A goAML date (YYYY-MM-DD from the clients file) as its date-time at midnight. */
static void leaf_date(struct xml *x, const char *tag, const char *ymd) {
    if (!ymd || !ymd[0]) return;
    char when[24];
    snprintf(when, sizeof when, "%.10sT00:00:00", ymd);
    leaf(x, tag, when);
}

/* An own client's account (t_account_my_client): the bank's institution, the account with
 * its currency, client number and type, the holder (t_entity, or the person as primary
 * signatory), opened and status, in goAML's order. Optional elements only when known. */
static void account_my_client(struct xml *x, const struct vg_report_config *r, const char *tag, const char *bank,
                              const struct vg_goaml_client *c) {
    char holder[2 * VG_REPORT_TEXT_MAX];
    bool person = strcmp(c->holder, "person") == 0;
    if (person) snprintf(holder, sizeof holder, "%s %s", c->first_name, c->last_name);
    else snprintf(holder, sizeof holder, "%s", c->name);
    open_tag(x, tag);
    institution(x, r->institution.name[0] ? &r->institution : vg_report_bank_get(r, bank, bank ? strlen(bank) : 0));
    leaf_opt(x, "branch", c->branch);
    leaf(x, "account", c->account);
    leaf(x, "currency_code", c->currency); /* the account's own currency, from the bank's records */
    leaf(x, "account_name", holder);
    leaf_opt(x, "iban", c->iban);
    leaf(x, "client_number", c->client_number);
    leaf(x, "personal_account_type", c->personal_account_type);
    if (!person) {
        open_tag(x, "t_entity");
        leaf(x, "name", c->name);
        leaf_opt(x, "incorporation_legal_form", c->legal_form);
        leaf_opt(x, "incorporation_number", c->incorporation_number);
        leaf_opt(x, "business", c->business);
        leaf_opt(x, "incorporation_country_code", c->incorporation_country);
        close_tag(x, "t_entity");
    } else {
        open_tag(x, "signatory");
        leaf(x, "is_primary", "1"); /* xs:boolean: 1, as goAML portals expect */
        open_tag(x, "t_person");
        leaf_opt(x, "gender", c->gender);
        leaf(x, "first_name", c->first_name);
        leaf(x, "last_name", c->last_name);
        leaf_date(x, "birthdate", c->birthdate);
        leaf_opt(x, "id_number", c->id_number);
        leaf_opt(x, "nationality1", c->nationality);
        leaf_opt(x, "residence", c->residence);
        leaf_opt(x, "occupation", c->occupation);
        close_tag(x, "t_person");
        leaf_opt(x, "role", c->role);
        close_tag(x, "signatory");
    }
    leaf_date(x, "opened", c->opened);
    leaf_opt(x, "status_code", c->status_code);
    close_tag(x, tag);
}

/* t_from / t_to: funds code, foreign currency when the transaction was sent in another
 * currency, the account, the country (mandatory: the report's own country when not sent). */
static void party(struct xml *x, const struct vg_goaml_render_ctx *ctx, const struct vg_goaml_tx *t, bool from,
                  const char *local) {
    const struct vg_report_config *r = ctx->r;
    const struct vg_currency_table *rates = ctx->rates;
    const char *p = from ? "from" : "to";
    const struct vg_goaml_client *client = vg_goaml_clients_find(ctx->clients, from ? t->from : t->to);
    char tag[40], wrapper[40];
    snprintf(wrapper, sizeof wrapper, "t_%s%s", p, client ? "_my_client" : "");
    open_tag(x, wrapper);
    snprintf(tag, sizeof tag, "%s_funds_code", p);
    leaf(x, tag, code_of(&r->funds_codes, t->channel && t->channel[0] ? t->channel : NULL));
    const char *iso = t->currency && t->currency[0] ? vg_currency_canonical(t->currency, strlen(t->currency)) : NULL;
    int64_t foreign, rate_foreign, rate_local;
    if (iso && strcmp(iso, local) != 0 && strlen(iso) == 3 &&
        vg_money_parse_amount(t->amount, strlen(t->amount), &foreign) == VG_OK &&
        vg_currency_rate(rates, iso, 3, &rate_foreign) == VG_OK &&
        vg_currency_rate(rates, local, strlen(local), &rate_local) == VG_OK && rate_local > 0) {
        char amount[32], rate[40];
        cents(foreign, amount);
        /* local units per foreign unit, 6 decimals */
        int64_t r6 = (int64_t)(((__int128)rate_foreign * VG_MICROS_PER_UNIT + rate_local / 2) / rate_local);
        size_t n = vg_money_format(r6, rate);
        rate[n] = '\0';
        snprintf(tag, sizeof tag, "%s_foreign_currency", p);
        open_tag(x, tag);
        leaf(x, "foreign_currency_code", iso);
        leaf(x, "foreign_amount", amount);
        leaf(x, "foreign_exchange_rate", rate);
        close_tag(x, tag);
    }
    snprintf(tag, sizeof tag, "%s_account", p);
    if (client) account_my_client(x, r, tag, from ? t->from_bank : t->to_bank, client);
    else account(x, r, tag, from ? t->from_bank : t->to_bank, from ? t->from : t->to, from ? t->from_name : t->to_name);
    snprintf(tag, sizeof tag, "%s_country", p);
    const char *country = from ? t->from_country : t->to_country;
    leaf(x, tag, country && country[0] ? country : r->default_country[0] ? r->default_country : r->location.country_code);
    close_tag(x, wrapper);
}

static void transaction(struct xml *x, const struct vg_goaml_render_ctx *ctx, const struct vg_goaml_tx *t,
                        const char *local) {
    const struct vg_report_config *r = ctx->r;
    char when[24], amount[32], description[256];
    open_tag(x, "transaction");
    leaf(x, "transactionnumber", t->id);
    snprintf(description, sizeof description, "%s%s%s", t->channel && t->channel[0] ? t->channel : "transfer",
             t->amount && t->amount[0] ? ", sent as " : "", t->amount && t->amount[0] ? t->amount : "");
    if (t->amount && t->amount[0] && t->currency && t->currency[0])
        snprintf(description + strlen(description), sizeof description - strlen(description), " %s", t->currency);
    leaf(x, "transaction_description", description);
    date_time(t->ts_ms, when);
    leaf(x, "date_transaction", when);
    leaf(x, "transmode_code", code_of(&r->transmode_codes, t->channel && t->channel[0] ? t->channel : NULL));
    int64_t micros;
    if (local_micros(ctx->rates, local, t->amount_base, &micros)) cents(micros, amount);
    else snprintf(amount, sizeof amount, "%s", t->amount_base); /* left to the validator to refuse */
    leaf(x, "amount_local", amount);
    party(x, ctx, t, true, local);
    party(x, ctx, t, false, local);
    close_tag(x, "transaction");
}

/* Appends printf output to a bounded reason text. */
static void say(char *reason, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *reason, size_t cap, const char *fmt, ...) {
    size_t n = strlen(reason);
    if (n + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason + n, cap - n, fmt, ap);
    va_end(ap);
}

/* The plain-language account of the alerts for the analyst to finish, cut to goAML's 4000
 * characters on a UTF-8 boundary. */
static void reason_text(const struct vg_goaml_case *c, const struct vg_currency_table *rates, char *out,
                        size_t cap) {
    char from[24], to[24];
    out[0] = '\0';
    date_time(c->alerts[0]->window_start_ms, from);
    date_time(c->alerts[c->n_alerts - 1]->window_end_ms, to);
    say(out, cap, "Draft by vigil (automated transaction monitoring): %zu alert%s on account %s between %s and %s UTC, "
                  "%zu transaction%s. ",
        c->n_alerts, c->n_alerts == 1 ? "" : "s", c->account, from, to, c->n_txs, c->n_txs == 1 ? "" : "s");
    for (size_t i = 0; i < c->n_alerts; i++) {
        const struct vg_goaml_alert *a = c->alerts[i];
        date_time(a->window_start_ms, from);
        date_time(a->window_end_ms, to);
        say(out, cap, "Rule %s (severity %s, score %s): %zu transaction%s from %s to %s", a->rule,
            a->severity ? a->severity : "?", a->score ? a->score : "?", a->n_tx_ids, a->n_tx_ids == 1 ? "" : "s", from,
            to);
        for (size_t k = 0; k < a->n_metrics; k++)
            say(out, cap, "%s %s %s", k ? "," : ";", a->metrics[k].key, a->metrics[k].value);
        if (a->n_metrics) say(out, cap, " (amounts in %s)", rates->base);
        if (a->n_accounts) {
            say(out, cap, "; counterparties:");
            for (size_t k = 0; k < a->n_accounts && k < 10; k++) say(out, cap, "%s %s", k ? "," : "", a->accounts[k]);
            if (a->n_accounts > 10) say(out, cap, " and %zu more", a->n_accounts - 10);
        }
        say(out, cap, ". ");
    }
    say(out, cap, "To be reviewed and completed by the analyst.");
    size_t n = strlen(out);
    if (n > REASON_MAX) { /* count bytes, cut on a character boundary: at most 4000 characters */
        n = REASON_MAX;
        while (n > 0 && ((unsigned char)out[n] & 0xC0) == 0x80) n--;
        out[n] = '\0';
    }
}

/* Where party `id` shows in the case's evidence: its bank and name as sent. */
static void party_as_sent(const struct vg_goaml_case *c, const char *id, const char **bank, const char **name) {
    *bank = *name = NULL;
    for (size_t i = 0; i < c->n_txs && !*name; i++) {
        const struct vg_goaml_tx *t = c->txs[i];
        if (strcmp(t->from, id) == 0) {
            if (!*bank && t->from_bank && t->from_bank[0]) *bank = t->from_bank;
            if (t->from_name && t->from_name[0]) *name = t->from_name;
        } else if (strcmp(t->to, id) == 0) {
            if (!*bank && t->to_bank && t->to_bank[0]) *bank = t->to_bank;
            if (t->to_name && t->to_name[0]) *name = t->to_name;
        }
    }
}

#define PARTIES_MAX 50

/* One report_party: the account (an own client's in *_my_client form), its significance
 * (the alerts' highest score on 0..10) and why it is reported. */
static void report_party(struct xml *x, const struct vg_goaml_render_ctx *ctx, const struct vg_goaml_case *c,
                         const char *id, int significance, const char *why) {
    const char *bank, *name;
    const struct vg_goaml_client *client = vg_goaml_clients_find(ctx->clients, id);
    party_as_sent(c, id, &bank, &name);
    open_tag(x, "report_party");
    if (client) account_my_client(x, ctx->r, "account_my_client", bank, client);
    else account(x, ctx->r, "account", bank, id, name);
    char number[8];
    snprintf(number, sizeof number, "%d", significance);
    leaf(x, "significance", number);
    leaf(x, "reason", why);
    close_tag(x, "report_party");
}

/* <activity>: the case's account and every counterparty its alerts name, each once. */
static void activity(struct xml *x, const struct vg_goaml_render_ctx *ctx, const struct vg_goaml_case *c) {
    int significance = 0;
    for (size_t i = 0; i < c->n_alerts; i++) {
        double score = c->alerts[i]->score ? strtod(c->alerts[i]->score, NULL) : 0;
        int v = (int)(score * 10 + 0.5);
        if (v > significance) significance = v > 10 ? 10 : v;
    }
    open_tag(x, "activity");
    open_tag(x, "report_parties");
    char why[512];
    snprintf(why, sizeof why, "The account the alert%s %s about (rule%s", c->n_alerts == 1 ? "" : "s",
             c->n_alerts == 1 ? "is" : "are", c->n_alerts == 1 ? "" : "s");
    for (size_t i = 0; i < c->n_alerts; i++)
        say(why, sizeof why, "%s %s", i ? "," : "", c->alerts[i]->rule);
    say(why, sizeof why, ").");
    report_party(x, ctx, c, c->account, significance, why);
    const char *seen[PARTIES_MAX];
    size_t n_seen = 0;
    for (size_t i = 0; i < c->n_alerts; i++) {
        const struct vg_goaml_alert *a = c->alerts[i];
        for (size_t k = 0; k < a->n_accounts && n_seen < PARTIES_MAX; k++) {
            bool dup = strcmp(a->accounts[k], c->account) == 0;
            for (size_t j = 0; j < n_seen && !dup; j++) dup = strcmp(seen[j], a->accounts[k]) == 0;
            if (dup) continue;
            seen[n_seen++] = a->accounts[k];
            snprintf(why, sizeof why, "Counterparty of account %s in the %s alert %s.", c->account, a->rule,
                     a->alert_id);
            report_party(x, ctx, c, a->accounts[k], significance, why);
        }
    }
    close_tag(x, "report_parties");
    close_tag(x, "activity");
}

int vg_goaml_render(const struct vg_goaml_render_ctx *ctx, const struct vg_goaml_case *c, char **xml_out,
                    size_t *len_out, char *errstr, size_t errstr_size) {
    const struct vg_report_config *r = ctx->r;
    /* The form: transactions under the first transaction report code of the case's rules,
     * when there are evidence transactions; else the parties under its first activity code. */
    const char *tx_code = NULL, *activity_code = NULL;
    for (size_t i = 0; i < c->n_alerts; i++) {
        const char *code = code_of(&r->report_codes, c->alerts[i]->rule);
        if (vg_report_is_activity_code(r, code)) activity_code = activity_code ? activity_code : code;
        else tx_code = tx_code ? tx_code : code;
    }
    bool as_activity = !(tx_code && c->n_txs > 0);
    if (as_activity && (!activity_code || !ctx->schema_has_activity)) {
        if (c->n_txs > 0)
            snprintf(errstr, errstr_size,
                     "not reportable as STR: every rule of the case (%s...) maps to an activity code, and the "
                     "schema has no <activity>", c->alerts[0]->rule);
        else if (!activity_code)
            snprintf(errstr, errstr_size,
                     "not reportable as STR: no evidence transactions in the alerts (run vigild with alerts.evidence: "
                     "full), and rule %s maps to no report.activity_codes code for a report of parties",
                     c->alerts[0]->rule);
        else
            snprintf(errstr, errstr_size,
                     "not reportable as STR: no evidence transactions, and the schema declares no <activity> for a "
                     "report of parties (report code %s)", activity_code);
        return VG_ERR_INVALID;
    }
    const char *local = r->currency_local[0] ? r->currency_local : ctx->rates->base;
    struct xml x = {0};
    char when[24], reference[128];
    char *reason = malloc(REASON_MAX * 2);
    if (!reason) return VG_ERR_NOMEM;
    rawz(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    open_tag(&x, "report"); /* no xmlns: goAML schemas have no target namespace */
    leaf(&x, "rentity_id", r->rentity_id);
    leaf_opt(&x, "rentity_branch", r->rentity_branch);
    leaf(&x, "submission_code", r->submission_code);
    leaf(&x, "report_code", as_activity ? activity_code : tx_code);
    snprintf(reference, sizeof reference, "%s%s", r->entity_reference_prefix, c->id);
    leaf(&x, "entity_reference", reference);
    date_time(ctx->submission_ms, when);
    leaf(&x, "submission_date", when);
    leaf(&x, "currency_code_local", local);
    if (r->reporting_person.first_name[0] || r->reporting_person.last_name[0]) {
        open_tag(&x, "reporting_person");
        leaf_opt(&x, "title", r->reporting_person.title);
        leaf(&x, "first_name", r->reporting_person.first_name);
        leaf(&x, "last_name", r->reporting_person.last_name);
        leaf_opt(&x, "email", r->reporting_person.email);
        leaf_opt(&x, "occupation", r->reporting_person.occupation);
        close_tag(&x, "reporting_person");
    }
    leaf_opt(&x, "reporting_user_code", r->reporting_user_code);
    if (r->location.address[0]) {
        open_tag(&x, "location");
        leaf(&x, "address_type", r->location.address_type);
        leaf(&x, "address", r->location.address);
        leaf(&x, "city", r->location.city);
        leaf_opt(&x, "zip", r->location.zip);
        leaf(&x, "country_code", r->location.country_code);
        close_tag(&x, "location");
    }
    reason_text(c, ctx->rates, reason, REASON_MAX * 2);
    leaf(&x, "reason", reason);
    leaf_opt(&x, "action", r->action);
    if (as_activity) activity(&x, ctx, c);
    else
        for (size_t i = 0; i < c->n_txs; i++) transaction(&x, ctx, c->txs[i], local);
    /* indicators of every rule in the case, each once, in the order first met */
    open_tag(&x, "report_indicators");
    const char *seen[64];
    size_t n_seen = 0;
    for (size_t i = 0; i < c->n_alerts; i++) {
        const struct vg_report_map_entry *e = vg_report_map_get(&r->indicators, c->alerts[i]->rule,
                                                                strlen(c->alerts[i]->rule));
        for (uint32_t k = 0; e && k < e->n_values; k++) {
            bool dup = false;
            for (size_t j = 0; j < n_seen && !dup; j++) dup = strcmp(seen[j], e->values[k]) == 0;
            if (dup || n_seen == VG_ARRAY_LEN(seen)) continue;
            seen[n_seen++] = e->values[k];
            leaf(&x, "indicator", e->values[k]);
        }
    }
    close_tag(&x, "report_indicators");
    close_tag(&x, "report");
    free(reason);
    if (x.failed) {
        free(x.buf);
        return VG_ERR_NOMEM;
    }
    *xml_out = x.buf;
    *len_out = x.len;
    return VG_OK;
}
