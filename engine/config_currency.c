/* config_currency.c - the `currency:` section: base currency and rates (1 unit of CODE =
 * rate base units). The built-in USD table is re-expressed in a new base; configured rates
 * then override it. Codes are ISO 4217 or the AMLworld names (aliases). */
#include "config_internal.h"

#include <stdio.h>
#include <string.h>

#include "vigil/log.h"
#include "vigil/money.h"

/* Resolves an ISO code or AMLworld name into code[4]. Returns VG_OK or VG_ERR_INVALID. */
static int currency_code(struct vg_cfg_loader *ld, const yaml_node_t *node, char code[4]) {
    const char *text;
    size_t len;
    char shown[80];
    if (vg_cfg_scalar(ld, node, &text, &len) != VG_OK) return VG_ERR_INVALID;
    bool iso = len == 3;
    for (size_t i = 0; iso && i < 3; i++) iso = text[i] >= 'A' && text[i] <= 'Z';
    /* Known names and aliases first (BTC is XBT), then any other three-letter code. */
    const char *canonical = vg_currency_canonical(text, len);
    if (!canonical && iso) canonical = text;
    if (!canonical || strlen(canonical) < 3)
        return vg_cfg_fail(ld, node, "bad currency '%s' (ISO 4217 code like EUR expected)",
                           vg_cfg_show(text, len, shown, sizeof shown));
    memcpy(code, canonical, 3);
    code[3] = '\0';
    return VG_OK;
}

struct user_rate {
    char code[4];
    int64_t rate_micros;
    const yaml_node_t *node;
};

/* Re-expresses the USD defaults in base. When base has no built-in rate, a configured rate
 * of a currency that has one links the two; with none the table starts empty (returns
 * false: the built-in rates are gone). Can't fail. */
static bool currency_rebase(struct vg_currency_table *table, const char base[4], const struct user_rate *rates,
                            size_t n_rates) {
    int64_t known;
    if (vg_currency_rate(table, base, 3, &known) != VG_OK) {
        int64_t base_in_table = 0;
        for (size_t i = 0; i < n_rates && base_in_table <= 0; i++) {
            int64_t pivot;
            if (vg_currency_rate(table, rates[i].code, 3, &pivot) != VG_OK) continue;
            /* 1 P = pivot (old base) = rate (new base)  =>  1 new base = pivot / rate. */
            __int128 v = (__int128)pivot * VG_MICROS_PER_UNIT / rates[i].rate_micros;
            if (v > 0 && v <= INT64_MAX) base_in_table = (int64_t)v;
        }
        if (base_in_table <= 0 || vg_currency_set(table, base, base_in_table) != VG_OK) {
            memset(table, 0, sizeof *table);
            memcpy(table->base, base, 4);
            vg_currency_set(table, base, VG_MICROS_PER_UNIT);
            return false;
        }
    }
    vg_currency_rebase(table, base);
    memcpy(table->base, base, 4);
    return true;
}

int vg_cfg_parse_currency(struct vg_cfg_loader *ld, const yaml_node_t *map, struct vg_config *cfg) {
    if (vg_cfg_is_null(map)) return VG_OK;
    if (map->type != YAML_MAPPING_NODE)
        return vg_cfg_fail(ld, map, "expected a mapping, got a %s", vg_cfg_kind(map));
    if (vg_cfg_check_keys(ld, map) != VG_OK) return VG_ERR_INVALID;
    const yaml_node_t *base_node = NULL, *rates_node = NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *key = yaml_document_get_node(ld->doc, p->key);
        yaml_node_t *value = yaml_document_get_node(ld->doc, p->value);
        const char *k = (const char *)key->data.scalar.value;
        size_t klen = key->data.scalar.length;
        if (vg_str_eq(k, klen, "base", 4)) {
            base_node = value;
        } else if (vg_str_eq(k, klen, "rates", 5)) {
            rates_node = value;
        } else {
            size_t saved = vg_cfg_key_push(ld, k, klen);
            vg_cfg_fail(ld, key, "unknown key (currency takes base, rates)");
            vg_cfg_key_pop(ld, saved);
            return VG_ERR_INVALID;
        }
    }
    char base[4] = "USD";
    if (base_node) {
        size_t saved = vg_cfg_key_push(ld, "base", 4);
        int rc = currency_code(ld, base_node, base);
        vg_cfg_key_pop(ld, saved);
        if (rc != VG_OK) return rc;
    }

    struct user_rate rates[VG_CURRENCY_MAX];
    size_t n_rates = 0;
    if (rates_node && !vg_cfg_is_null(rates_node)) {
        size_t saved = vg_cfg_key_push(ld, "rates", 5);
        if (rates_node->type != YAML_MAPPING_NODE) {
            vg_cfg_fail(ld, rates_node, "expected a mapping CODE: rate, got a %s", vg_cfg_kind(rates_node));
            vg_cfg_key_pop(ld, saved);
            return VG_ERR_INVALID;
        }
        if (vg_cfg_check_keys(ld, rates_node) != VG_OK) {
            vg_cfg_key_pop(ld, saved);
            return VG_ERR_INVALID;
        }
        for (yaml_node_pair_t *p = rates_node->data.mapping.pairs.start; p < rates_node->data.mapping.pairs.top; p++) {
            yaml_node_t *key = yaml_document_get_node(ld->doc, p->key);
            yaml_node_t *value = yaml_document_get_node(ld->doc, p->value);
            size_t inner = vg_cfg_key_push(ld, (const char *)key->data.scalar.value, key->data.scalar.length);
            struct user_rate *r = &rates[n_rates];
            int rc = currency_code(ld, key, r->code);
            const char *text = "";
            size_t len = 0;
            char shown[80];
            if (rc == VG_OK) rc = vg_cfg_scalar(ld, value, &text, &len);
            if (rc == VG_OK) {
                int prc = vg_money_parse(text, len, &r->rate_micros);
                if (prc != VG_OK || r->rate_micros <= 0)
                    rc = vg_cfg_fail(ld, value, "bad rate '%s' (a positive decimal: 1 %s = rate %s)",
                                     vg_cfg_show(text, len, shown, sizeof shown), r->code, base);
            }
            for (size_t i = 0; rc == VG_OK && i < n_rates; i++)
                if (strcmp(rates[i].code, r->code) == 0)
                    rc = vg_cfg_fail(ld, key, "%s given twice (line %lu)", r->code, vg_cfg_line(rates[i].node));
            if (rc == VG_OK && strcmp(r->code, base) == 0 && r->rate_micros != VG_MICROS_PER_UNIT)
                rc = vg_cfg_fail(ld, value, "the base currency %s has rate 1", base);
            if (rc == VG_OK && n_rates + 1 >= VG_CURRENCY_MAX)
                rc = vg_cfg_fail(ld, key, "more than %d currencies", VG_CURRENCY_MAX - 1);
            r->node = key;
            vg_cfg_key_pop(ld, inner);
            if (rc != VG_OK) {
                vg_cfg_key_pop(ld, saved);
                return rc;
            }
            n_rates++;
        }
        vg_cfg_key_pop(ld, saved);
    }

    if (strcmp(base, cfg->currency.base) != 0) {
        /* Unlinked with no rates at all: nothing converts to the base, every record in
         * another currency would be dead-lettered (a bad value: an error). Unlinked with
         * rates written (a single-currency deployment says `BASE: 1`): those convert, say
         * that the built-in rates do not. */
        bool linked = currency_rebase(&cfg->currency, base, rates, n_rates);
        if (!linked && n_rates == 0) {
            size_t saved = vg_cfg_key_push(ld, "base", 4);
            vg_cfg_fail(ld, base_node,
                        "no built-in rate for %s and no currency.rates entry links it to one: every record in "
                        "another currency would be dead-lettered (add e.g. USD: <rate> under currency.rates, or "
                        "%s: 1 there to accept %s only)", base, base, base);
            vg_cfg_key_pop(ld, saved);
            return VG_ERR_INVALID;
        }
        if (!linked)
            vg_warn("currency_base_unlinked",
                    "file=%s line=%lu key=currency.base base=%s msg=\"no built-in rate for %s and no "
                    "currency.rates entry links it to one: records in any currency but %s%s are "
                    "dead-lettered as unknown_currency\"",
                    ld->name, base_node ? vg_cfg_line(base_node) : 0ul, base, base, base,
                    n_rates ? " and those listed in currency.rates" : "");
    }
    for (size_t i = 0; i < n_rates; i++) {
        if (vg_currency_set(&cfg->currency, rates[i].code, rates[i].rate_micros) != VG_OK) {
            size_t saved = vg_cfg_key_push(ld, "rates", 5);
            vg_cfg_key_push(ld, rates[i].code, 3);
            vg_cfg_fail(ld, rates[i].node, "rate table full or code refused");
            vg_cfg_key_pop(ld, saved);
            return VG_ERR_INVALID;
        }
    }
    return VG_OK;
}

