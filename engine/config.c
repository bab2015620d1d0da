/* config.c - loads vigil.yaml (contract section 6) with libyaml's document API into one
 * immutable struct vg_config: built-in defaults first, then the file on top, then checks and
 * each enabled rule's prepare(). Every error is one line "FILE:LINE: KEY: what is wrong".
 * Scalar readers and messages: config_yaml.c; `currency:` config_currency.c; `rules:`
 * config_params.c. */
#include "config_internal.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "vigil/alert.h"
#include "vigil/log.h"

#define CONFIG_FILE_MAX (16u << 20)   /* a config larger than this is refused */

/* ---- plain sections: a field table each --------------------------------------------- */

enum field_type {
    F_STRING,      /* char[size]; min = 1 means it must not be empty */
    F_TOPIC,       /* char[size]; a Kafka topic name */
    F_BOOL,
    F_DURATION,    /* int64_t ms >= min */
    F_INT,         /* int in [min, max] */
    F_U32,         /* uint32_t in [min, max] */
    F_POW2,        /* uint32_t power of two in [min, max] */
    F_INPUT_KIND,
    F_FORMAT,
    F_LOG_LEVEL,
    F_EVIDENCE,    /* alerts.evidence: ids | full */
    F_LISTEN,      /* char[size]; "" or HOST:PORT */
    F_TOPIC_OPT,   /* a Kafka topic name, or "" = not used */
};

struct field {
    const char *key;
    enum field_type type;
    size_t offset;
    size_t size;
    int64_t min, max;
};

#define CF(member) offsetof(struct vg_config, member), sizeof(((struct vg_config *)0)->member)

static const struct field input_fields[] = {
    {"kind", F_INPUT_KIND, CF(input.kind), 0, 0},
    {"topic", F_TOPIC, CF(input.topic), 0, 0},
    {"group", F_STRING, CF(input.group), 1, 0},
    {"file", F_STRING, CF(input.file), 0, 0},
    {"format", F_FORMAT, CF(input.format), 0, 0},
    {"instance_id", F_STRING, CF(input.instance_id), 0, 0},
    {"idle_timeout", F_DURATION, CF(input.idle_timeout_ms), 0, 0},
    {"max_clock_skew", F_DURATION, CF(input.max_clock_skew_ms), 0, 0},
    {"repartition_topic", F_TOPIC_OPT, CF(input.repartition_topic), 0, 0},
    {"repartition_partitions", F_INT, CF(input.repartition_partitions), 1, 1023},
    {"repartition_group", F_TOPIC_OPT, CF(input.repartition_group), 0, 0},
    {NULL, 0, 0, 0, 0, 0},
};
static const struct field output_fields[] = {
    {"topic", F_TOPIC, CF(output.topic), 0, 0},
    {"exactly_once", F_BOOL, CF(output.exactly_once), 0, 0},
    {"file", F_STRING, CF(output.file), 0, 0},
    {NULL, 0, 0, 0, 0, 0},
};
static const struct field dead_letter_fields[] = {
    {"topic", F_TOPIC, CF(dead_letter.topic), 0, 0},
    {"file", F_STRING, CF(dead_letter.file), 0, 0},
    {NULL, 0, 0, 0, 0, 0},
};
static const struct field kafka_fields[] = {
    {"brokers", F_STRING, CF(kafka.brokers), 1, 0},
    {NULL, 0, 0, 0, 0, 0},
};
static const struct field engine_fields[] = {
    {"threads", F_INT, CF(engine.threads), 0, 1024},
    {"allowed_lateness", F_DURATION, CF(engine.allowed_lateness_ms), 0, 0},
    {"max_time_jump", F_DURATION, CF(engine.max_time_jump_ms), 0, 0},
    {"ring_size", F_POW2, CF(engine.ring_size), 2, 1 << 24},
    {"graph_budget", F_U32, CF(engine.graph_budget), 1, 1000000000},
    {"max_window_events", F_U32, CF(engine.max_window_events), 1, 1 << 20},
    {"shutdown_timeout", F_DURATION, CF(engine.shutdown_timeout_ms), 1000, 0},
    {NULL, 0, 0, 0, 0, 0},
};
static const struct field alerts_fields[] = {
    {"cooldown", F_DURATION, CF(alerts.cooldown_ms), 0, 0},
    {"max_evidence", F_U32, CF(alerts.max_evidence), 1, VG_EVIDENCE_MAX},
    {"evidence", F_EVIDENCE, CF(alerts.evidence), 0, 0},
    {NULL, 0, 0, 0, 0, 0},
};
static const struct field metrics_fields[] = {
    {"listen", F_LISTEN, CF(metrics.listen), 0, 0},
    {NULL, 0, 0, 0, 0, 0},
};
static const struct field state_fields[] = {
    {"dir", F_STRING, CF(state.dir), 0, 0},
    {"interval", F_DURATION, CF(state.interval_ms), 1000, 0},
    {"topic", F_TOPIC_OPT, CF(state.topic), 0, 0},
    {NULL, 0, 0, 0, 0, 0},
};
static const struct field log_fields[] = {
    {"level", F_LOG_LEVEL, CF(log.level), 0, 0},
    {NULL, 0, 0, 0, 0, 0},
};

/* Matches text against names; returns the index or -1. */
static int pick(const char *text, size_t len, const char *const *names, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (vg_str_eq(text, len, names[i], strlen(names[i]))) return (int)i;
    return -1;
}

static bool topic_name_ok(const char *s, size_t len) {
    if (len == 0 || len > 249) return false;
    if (vg_str_eq(s, len, ".", 1) || vg_str_eq(s, len, "..", 2)) return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

/* "" or HOST:PORT with a numeric port 0..65535 (HOST may be empty, a name, or [v6]). */
static bool listen_ok(const char *s, size_t len) {
    if (len == 0) return true;
    const char *colon = NULL;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ':') colon = s + i;
    if (!colon) return false;
    size_t host_len = (size_t)(colon - s);
    if (host_len > 0 && s[0] == '[' && s[host_len - 1] != ']') return false;
    if (host_len > 0 && s[0] != '[' && memchr(s, ':', host_len)) return false;
    size_t port_len = len - host_len - 1;
    if (port_len == 0 || port_len > 5) return false;
    long port = 0;
    for (size_t i = 0; i < port_len; i++) {
        char c = colon[1 + i];
        if (c < '0' || c > '9') return false;
        port = port * 10 + (c - '0');
    }
    return port <= 65535;
}

/* Parses one field's value into cfg. Returns VG_OK or VG_ERR_INVALID. */
static int parse_field(struct vg_cfg_loader *ld, const struct field *f, const yaml_node_t *node,
                       struct vg_config *cfg) {
    char *dst = (char *)cfg + f->offset;
    char shown[80];
    const char *text = "";
    size_t len = 0;
    int64_t v = 0;
    switch (f->type) {
    case F_STRING:
    case F_TOPIC:
    case F_TOPIC_OPT:
    case F_LISTEN:
        if (!vg_cfg_is_null(node) && vg_cfg_scalar(ld, node, &text, &len) != VG_OK) return VG_ERR_INVALID;
        if (len >= f->size) return vg_cfg_fail(ld, node, "longer than %zu bytes", f->size - 1);
        if (f->type == F_STRING && f->min > 0 && len == 0) return vg_cfg_fail(ld, node, "must not be empty");
        if ((f->type == F_TOPIC || (f->type == F_TOPIC_OPT && len > 0)) && !topic_name_ok(text, len))
            return vg_cfg_fail(ld, node, "bad topic name '%s' (1 to 249 of a-z A-Z 0-9 . _ -)",
                               vg_cfg_show(text, len, shown, sizeof shown));
        if (f->type == F_LISTEN && !listen_ok(text, len))
            return vg_cfg_fail(ld, node, "expected HOST:PORT, got '%s'", vg_cfg_show(text, len, shown, sizeof shown));
        memcpy(dst, text, len);
        dst[len] = '\0';
        return VG_OK;
    case F_BOOL: {
        bool b;
        if (vg_cfg_bool(ld, node, &b) != VG_OK) return VG_ERR_INVALID;
        memcpy(dst, &b, sizeof b);
        return VG_OK;
    }
    case F_DURATION:
        if (vg_cfg_duration(ld, node, &v) != VG_OK) return VG_ERR_INVALID;
        if (v < f->min) return vg_cfg_fail(ld, node, "must be at least %lld ms", (long long)f->min);
        memcpy(dst, &v, sizeof v);
        return VG_OK;
    case F_INT: {
        if (vg_cfg_integer(ld, node, f->min, f->max, &v) != VG_OK) return VG_ERR_INVALID;
        int i = (int)v;
        memcpy(dst, &i, sizeof i);
        return VG_OK;
    }
    case F_U32:
    case F_POW2: {
        if (vg_cfg_integer(ld, node, f->min, f->max, &v) != VG_OK) return VG_ERR_INVALID;
        if (f->type == F_POW2 && (v & (v - 1)) != 0)
            return vg_cfg_fail(ld, node, "must be a power of two, got %lld", (long long)v);
        uint32_t u = (uint32_t)v;
        memcpy(dst, &u, sizeof u);
        return VG_OK;
    }
    case F_INPUT_KIND:
    case F_FORMAT:
    case F_LOG_LEVEL:
    case F_EVIDENCE: {
        static const char *const kinds[] = {"kafka", "file"};
        static const char *const formats[] = {"ndjson", "amlworld-csv"};
        static const char *const levels[] = {"error", "warn", "info", "debug"};
        static const char *const evidence[] = {"ids", "full"};
        const char *const *names = f->type == F_INPUT_KIND ? kinds : f->type == F_FORMAT ? formats
                                   : f->type == F_EVIDENCE ? evidence : levels;
        size_t n = f->type == F_LOG_LEVEL ? 4 : 2;
        if (vg_cfg_scalar(ld, node, &text, &len) != VG_OK) return VG_ERR_INVALID;
        int idx = pick(text, len, names, n);
        if (idx < 0) {
            char expected[128] = "";
            for (size_t i = 0; i < n; i++)
                snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "%s%s",
                         i ? (i + 1 == n ? " or " : ", ") : "", names[i]);
            return vg_cfg_fail(ld, node, "bad value '%s' (expected %s)", vg_cfg_show(text, len, shown, sizeof shown),
                               expected);
        }
        /* enum vg_input_kind / vg_format_kind / vg_log_level / vg_evidence_mode: int's size. */
        memcpy(dst, &idx, sizeof idx);
        return VG_OK;
    }
    }
    return vg_cfg_fail(ld, node, "unsupported field type");
}

/* librdkafka knows the property and takes the value (a scratch configuration), so that
 * --check-config and a reload refuse what would only fail when the clients are created. */
static int check_kafka_property(struct vg_cfg_loader *ld, const yaml_node_t *key, const yaml_node_t *value,
                                const struct vg_kafka_property *prop) {
    char why[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_res_t res;

    if (!conf) return vg_cfg_fail(ld, key, "out of memory");
    res = rd_kafka_conf_set(conf, prop->key, prop->value, why, sizeof why);
    rd_kafka_conf_destroy(conf);
    if (res == RD_KAFKA_CONF_OK) return VG_OK;
    return vg_cfg_fail(ld, res == RD_KAFKA_CONF_UNKNOWN ? key : value, "librdkafka refuses it: %s", why);
}

/* kafka.properties: librdkafka property -> scalar, kept verbatim. */
static int parse_kafka_properties(struct vg_cfg_loader *ld, const yaml_node_t *map, struct vg_config *cfg) {
    int failed = VG_OK;
    cfg->kafka.property_count = 0;
    if (vg_cfg_is_null(map)) return VG_OK;
    if (map->type != YAML_MAPPING_NODE)
        return vg_cfg_fail(ld, map, "expected a mapping of librdkafka properties, got a %s", vg_cfg_kind(map));
    if (vg_cfg_check_keys(ld, map) != VG_OK) return VG_ERR_INVALID;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *key = yaml_document_get_node(ld->doc, p->key);
        yaml_node_t *value = yaml_document_get_node(ld->doc, p->value);
        size_t saved = vg_cfg_key_push(ld, (const char *)key->data.scalar.value, key->data.scalar.length);
        struct vg_kafka_property *prop = &cfg->kafka.properties[cfg->kafka.property_count];
        const char *k, *v;
        size_t klen, vlen;
        int rc = VG_OK;
        if (vg_cfg_scalar(ld, key, &k, &klen) != VG_OK || vg_cfg_scalar(ld, value, &v, &vlen) != VG_OK)
            rc = VG_ERR_INVALID;
        else if (cfg->kafka.property_count == VG_KAFKA_PROPS_MAX)
            rc = vg_cfg_fail(ld, key, "more than %d properties", VG_KAFKA_PROPS_MAX);
        else if (klen == 0 || klen >= sizeof prop->key)
            rc = vg_cfg_fail(ld, key, "property name must be 1 to %zu bytes", sizeof prop->key - 1);
        else if (vlen >= sizeof prop->value)
            rc = vg_cfg_fail(ld, value, "value longer than %zu bytes", sizeof prop->value - 1);
        if (rc == VG_OK) {
            memcpy(prop->key, k, klen);
            prop->key[klen] = '\0';
            memcpy(prop->value, v, vlen);
            prop->value[vlen] = '\0';
            rc = check_kafka_property(ld, key, value, prop);
        }
        vg_cfg_key_pop(ld, saved);
        if (rc == VG_ERR_NOMEM) return rc;
        if (rc != VG_OK) {
            failed = VG_ERR_INVALID; /* go on: report every error */
            continue;
        }
        cfg->kafka.property_count++;
    }
    return failed;
}

/* ---- rules and the top level --------------------------------------------------------- */

static int parse_rules(struct vg_cfg_loader *ld, const yaml_node_t *map, struct vg_config *cfg) {
    int failed = VG_OK;
    if (vg_cfg_is_null(map)) return VG_OK;
    if (map->type != YAML_MAPPING_NODE)
        return vg_cfg_fail(ld, map, "expected a mapping of rule names, got a %s", vg_cfg_kind(map));
    if (vg_cfg_check_keys(ld, map) != VG_OK) return VG_ERR_INVALID;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *key = yaml_document_get_node(ld->doc, p->key);
        yaml_node_t *value = yaml_document_get_node(ld->doc, p->value);
        const char *k = (const char *)key->data.scalar.value;
        size_t klen = key->data.scalar.length;
        size_t saved = vg_cfg_key_push(ld, k, klen);
        int id = memchr(k, '\0', klen) ? -1 : vg_rule_find(k, klen);
        int rc;
        if (id < 0) {
            char known[512];
            size_t n = 0;
            for (int i = 0; i < VG_RULE_MAX && n < sizeof known; i++)
                n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", i ? ", " : "", vg_rule_registry[i]->name);
            rc = vg_cfg_fail(ld, key, "unknown rule (known: %s)", known);
        } else {
            rc = vg_cfg_rule_parse(ld, (enum vg_rule_id)id, &cfg->rules[id], value);
        }
        vg_cfg_key_pop(ld, saved);
        if (rc == VG_ERR_NOMEM) return rc;
        if (rc != VG_OK) failed = VG_ERR_INVALID;
    }
    return failed;
}

struct section {
    const char *name;
    const struct field *fields;
    int (*parse)(struct vg_cfg_loader *ld, const yaml_node_t *map, struct vg_config *cfg);
};

static const struct section sections[] = {
    {"input", input_fields, NULL},
    {"output", output_fields, NULL},
    {"dead_letter", dead_letter_fields, NULL},
    {"kafka", kafka_fields, NULL},
    {"engine", engine_fields, NULL},
    {"currency", NULL, vg_cfg_parse_currency},
    {"alerts", alerts_fields, NULL},
    {"rules", NULL, parse_rules},
    {"metrics", metrics_fields, NULL},
    {"state", state_fields, NULL},
    {"log", log_fields, NULL},
    {"report", NULL, vg_cfg_parse_report},
};

/* A section made of plain fields (kafka also has properties). Returns VG_OK or VG_ERR_INVALID. */
static int parse_section(struct vg_cfg_loader *ld, const struct section *s, const yaml_node_t *map,
                         struct vg_config *cfg) {
    if (vg_cfg_is_null(map)) return VG_OK;
    if (map->type != YAML_MAPPING_NODE)
        return vg_cfg_fail(ld, map, "expected a mapping, got a %s", vg_cfg_kind(map));
    if (vg_cfg_check_keys(ld, map) != VG_OK) return VG_ERR_INVALID;
    bool is_kafka = s->fields == kafka_fields;
    int failed = VG_OK;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *key = yaml_document_get_node(ld->doc, p->key);
        yaml_node_t *value = yaml_document_get_node(ld->doc, p->value);
        const char *k = (const char *)key->data.scalar.value;
        size_t klen = key->data.scalar.length;
        size_t saved = vg_cfg_key_push(ld, k, klen);
        const struct field *f = s->fields;
        while (f->key && !vg_str_eq(k, klen, f->key, strlen(f->key))) f++;
        int rc;
        if (f->key) {
            rc = parse_field(ld, f, value, cfg);
            if (f->type == F_STRING && f->offset == offsetof(struct vg_config, state.dir))
                cfg->state.dir_line = vg_cfg_line(value);
        } else if (is_kafka && vg_str_eq(k, klen, "properties", 10)) {
            rc = parse_kafka_properties(ld, value, cfg);
        } else {
            char known[256] = "";
            for (const struct field *g = s->fields; g->key; g++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", g == s->fields ? "" : ", ", g->key);
            if (is_kafka) snprintf(known + strlen(known), sizeof known - strlen(known), ", properties");
            rc = vg_cfg_fail(ld, key, "unknown key (%s takes %s)", s->name, known);
        }
        vg_cfg_key_pop(ld, saved);
        if (rc == VG_ERR_NOMEM) return rc;
        if (rc != VG_OK) failed = VG_ERR_INVALID;
    }
    if (s->fields == input_fields && cfg->input.kind == VG_INPUT_FILE && cfg->input.file[0] == '\0')
        return vg_cfg_fail(ld, map, "kind file needs input.file (a path, or \"-\" for stdin)");
    return failed;
}

static int parse_root(struct vg_cfg_loader *ld, const yaml_node_t *root, struct vg_config *cfg) {
    if (vg_cfg_is_null(root)) return VG_OK;
    if (root->type != YAML_MAPPING_NODE)
        return vg_cfg_fail(ld, root, "the top level must be a mapping of sections, got a %s", vg_cfg_kind(root));
    if (vg_cfg_check_keys(ld, root) != VG_OK) return VG_ERR_INVALID;
    int failed = VG_OK;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *key = yaml_document_get_node(ld->doc, p->key);
        yaml_node_t *value = yaml_document_get_node(ld->doc, p->value);
        const char *k = (const char *)key->data.scalar.value;
        size_t klen = key->data.scalar.length;
        size_t saved = vg_cfg_key_push(ld, k, klen);
        const struct section *s = NULL;
        for (size_t i = 0; i < VG_ARRAY_LEN(sections) && !s; i++)
            if (vg_str_eq(k, klen, sections[i].name, strlen(sections[i].name))) s = &sections[i];
        int rc;
        if (!s) {
            char known[256] = "";
            for (size_t i = 0; i < VG_ARRAY_LEN(sections); i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", sections[i].name);
            rc = vg_cfg_fail(ld, key, "unknown section (known: %s)", known);
        } else if (s->parse) {
            rc = s->parse(ld, value, cfg);
        } else {
            rc = parse_section(ld, s, value, cfg);
        }
        vg_cfg_key_pop(ld, saved);
        if (rc == VG_ERR_NOMEM) return rc;
        if (rc != VG_OK) failed = VG_ERR_INVALID; /* go on: one run reports every error */
    }
    return failed;
}

/* ---- building a config ---------------------------------------------------------------- */

/* Built-in defaults without running prepare(). Returns VG_OK, VG_ERR_NOMEM or
 * VG_ERR_INVALID (broken built-in default); cfg must be released with vg_config_free. */
static int fill_defaults(struct vg_config *cfg, struct vg_cfg_loader *ld) {
    memset(cfg, 0, sizeof *cfg);
    cfg->input.kind = VG_INPUT_KAFKA;
    strcpy(cfg->input.topic, "transactions");
    strcpy(cfg->input.group, "vigil");
    cfg->input.format = VG_CFG_FORMAT_NDJSON;
    cfg->input.idle_timeout_ms = VG_MS_PER_SECOND;
    cfg->input.max_clock_skew_ms = 60 * 60 * VG_MS_PER_SECOND;
    cfg->input.repartition_partitions = 8;
    strcpy(cfg->output.topic, "alerts");
    strcpy(cfg->dead_letter.topic, "transactions.dead_letter");
    /* kafka.brokers has no default: vg_config_check_kafka_mode. */
    cfg->engine.threads = 0;
    cfg->engine.allowed_lateness_ms = 5 * 60 * VG_MS_PER_SECOND;
    cfg->engine.max_time_jump_ms = 7 * VG_MS_PER_DAY;
    cfg->engine.ring_size = 32768;
    cfg->engine.graph_budget = 20000;
    cfg->engine.max_window_events = 4096;
    cfg->engine.shutdown_timeout_ms = 20 * VG_MS_PER_SECOND;
    vg_currency_defaults(&cfg->currency);
    cfg->alerts.cooldown_ms = VG_MS_PER_DAY;
    cfg->alerts.max_evidence = 64;
    cfg->state.interval_ms = 30 * VG_MS_PER_SECOND;
    cfg->log.level = VG_LOG_INFO;
    for (int id = 0; id < VG_RULE_MAX; id++) {
        const struct vg_rule_def *def = vg_rule_registry[id];
        cfg->rules[id].enabled = true;
        cfg->rules[id].severity = def->default_severity;
        cfg->rules[id].params = calloc(1, def->params_size ? def->params_size : 1);
        if (!cfg->rules[id].params) return VG_ERR_NOMEM;
        int rc = vg_cfg_rule_defaults(ld, (enum vg_rule_id)id, cfg->rules[id].params);
        if (rc != VG_OK) return rc;
    }
    return VG_OK;
}

/* Directory of path for relative rule files: "." when path has none. */
static void dir_of(const char *path, char *out, size_t cap) {
    const char *slash = path ? strrchr(path, '/') : NULL;
    if (!slash) {
        snprintf(out, cap, ".");
    } else if (slash == path) {
        snprintf(out, cap, "/");
    } else {
        snprintf(out, cap, "%.*s", (int)VG_MIN((size_t)(slash - path), cap - 1), path);
    }
}

/* Whether state.dir can hold checkpoints: an existing writable directory, or one the
 * checkpointer's mkdir (the last component only) can create. Returns true, or false with why. */
static bool state_dir_usable(const char *dir, char *why, size_t why_size) {
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return snprintf(why, why_size, "'%s' exists and is not a directory", dir), false;
        if (access(dir, W_OK | X_OK) != 0)
            return snprintf(why, why_size, "'%s' is not writable: %s", dir, strerror(errno)), false;
        return true;
    }
    if (errno != ENOENT) return snprintf(why, why_size, "'%s' cannot be used: %s", dir, strerror(errno)), false;
    char parent[VG_PATH_MAX];
    dir_of(dir, parent, sizeof parent);
    if (stat(parent, &st) != 0)
        return snprintf(why, why_size, "'%s' cannot be created: %s: %s (only the last component is created)", dir,
                        parent, strerror(errno)), false;
    if (!S_ISDIR(st.st_mode))
        return snprintf(why, why_size, "'%s' cannot be created: %s is not a directory", dir, parent), false;
    if (access(parent, W_OK | X_OK) != 0)
        return snprintf(why, why_size, "'%s' cannot be created: %s is not writable: %s", dir, parent,
                        strerror(errno)), false;
    return true;
}

/* The checks of vg_config_load_checked; errors are added to the loader's. Returns VG_OK or
 * VG_ERR_INVALID. */
static int check_use(struct vg_cfg_loader *ld, const struct vg_config *cfg) {
    int failed = VG_OK;
    if ((ld->checks & VG_CONFIG_CHECK_KAFKA) && cfg->input.kind == VG_INPUT_KAFKA && !cfg->kafka.brokers[0]) {
        size_t saved = vg_cfg_key_push(ld, "kafka.brokers", 13);
        failed = vg_cfg_fail_line(ld, 0, "required to consume Kafka (no default): the bootstrap list, e.g. "
                                  "kafka1:9092,kafka2:9092, or embedded for the in-process development broker");
        vg_cfg_key_pop(ld, saved);
    }
    /* Distributed mode (input.repartition_topic): state lives in state.topic, per task. */
    const char *bad_key = NULL, *bad_why = NULL;
    if (cfg->input.repartition_topic[0] && cfg->state.dir[0])
        bad_key = "state.dir", bad_why = "one process's state on its own disk; with input.repartition_topic the "
                                         "tasks' state lives in state.topic (leave state.dir out)";
    else if (cfg->state.topic[0] && !cfg->input.repartition_topic[0])
        bad_key = "state.topic", bad_why = "only used with input.repartition_topic (several instances); one "
                                           "process keeps its state in state.dir";
    else if (cfg->input.repartition_topic[0] && !strcmp(cfg->input.repartition_topic, cfg->input.topic))
        bad_key = "input.repartition_topic", bad_why = "must differ from input.topic";
    else if (cfg->state.topic[0] && (!strcmp(cfg->state.topic, cfg->input.repartition_topic) ||
                                     !strcmp(cfg->state.topic, cfg->input.topic)))
        bad_key = "state.topic", bad_why = "must differ from input.topic and input.repartition_topic";
    if (bad_key) {
        size_t saved = vg_cfg_key_push(ld, bad_key, strlen(bad_key));
        failed = vg_cfg_fail_line(ld, 0, "%s", bad_why);
        vg_cfg_key_pop(ld, saved);
    }
    char why[VG_PATH_MAX * 2 + 128];
    if ((ld->checks & VG_CONFIG_CHECK_STATE_DIR) && cfg->input.kind == VG_INPUT_KAFKA && cfg->state.dir[0] &&
        !state_dir_usable(cfg->state.dir, why, sizeof why)) {
        size_t saved = vg_cfg_key_push(ld, "state.dir", 9);
        failed = vg_cfg_fail_line(ld, cfg->state.dir_line, "%s", why);
        vg_cfg_key_pop(ld, saved);
    }
    return failed;
}

/* Relations between values and each enabled rule's prepare(); errors keep file:line:key.
 * Returns VG_OK or VG_ERR_INVALID. */
static int finish(struct vg_cfg_loader *ld, struct vg_config *cfg, const char *base_dir) {
    int failed = VG_OK;
    for (int id = 0; id < VG_RULE_MAX; id++) {
        if (vg_cfg_rule_check(ld, (enum vg_rule_id)id, cfg->rules[id].params) != VG_OK) failed = VG_ERR_INVALID;
    }
    for (int id = 0; id < VG_RULE_MAX; id++) {
        const struct vg_rule_def *def = vg_rule_registry[id];
        if (!cfg->rules[id].enabled || !def->prepare) continue;
        char why[768] = "";
        if (def->prepare(cfg->rules[id].params, base_dir, why, sizeof why) == VG_OK) continue;
        /* prepare says "rules.<name>.<key>: why"; find the line the key was written on. */
        char prefix[96];
        int plen = snprintf(prefix, sizeof prefix, "rules.%s.", def->name);
        unsigned long line = ld->rule_line[id];
        if (plen > 0 && strncmp(why, prefix, (size_t)plen) == 0) {
            const char *key = why + plen;
            const char *end = strchr(key, ':');
            if (end) line = vg_cfg_param_line(ld, (enum vg_rule_id)id, key, (size_t)(end - key));
            failed = vg_cfg_fail_line(ld, line, "%s", why[0] ? why : "rule setup failed");
            continue;
        }
        size_t saved = vg_cfg_key_push(ld, "rules", 5);
        vg_cfg_key_push(ld, def->name, strlen(def->name));
        failed = vg_cfg_fail_line(ld, line, "%s", why[0] ? why : "rule setup failed");
        vg_cfg_key_pop(ld, saved);
    }
    return failed;
}

int vg_config_defaults(struct vg_config *cfg) {
    struct vg_cfg_loader ld;
    char errstr[256];
    memset(&ld, 0, sizeof ld);
    ld.name = "built-in defaults";
    ld.errstr = errstr;
    ld.errstr_size = sizeof errstr;
    int rc = fill_defaults(cfg, &ld);
    if (rc == VG_OK) rc = finish(&ld, cfg, ".");
    if (rc != VG_OK) {
        vg_config_free(cfg);
        return rc == VG_ERR_NOMEM ? VG_ERR_NOMEM : VG_ERR_INVALID;
    }
    return VG_OK;
}

/* Reports a libyaml parse error as "NAME:LINE: yaml: problem (context)". */
static int yaml_error(struct vg_cfg_loader *ld, const yaml_parser_t *parser) {
    if (parser->error == YAML_MEMORY_ERROR) {
        vg_cfg_fail_line(ld, 0, "out of memory while parsing YAML");
        return VG_ERR_NOMEM;
    }
    const char *problem = parser->problem ? parser->problem : "malformed YAML";
    if (parser->context)
        return vg_cfg_fail_line(ld, (unsigned long)parser->problem_mark.line + 1, "yaml: %s (%s on line %lu)",
                                problem, parser->context, (unsigned long)parser->context_mark.line + 1);
    return vg_cfg_fail_line(ld, (unsigned long)parser->problem_mark.line + 1, "yaml: %s", problem);
}

/* Applies each override as a one-key document through parse_root, so a value is read exactly
 * as the file would have it. Returns VG_OK, VG_ERR_NOMEM or VG_ERR_INVALID. */
static int apply_overrides(struct vg_cfg_loader *ld, const struct vg_config_override *ov, size_t n_ov,
                           struct vg_config *cfg) {
    yaml_document_t *saved_doc = ld->doc;
    const char *saved_name = ld->name;
    int rc = VG_OK;
    for (size_t i = 0; i < n_ov && rc == VG_OK; i++) {
        yaml_document_t doc;
        ld->name = ov[i].source ? ov[i].source : "override";
        rc = vg_cfg_override_doc(ld, &doc, ov[i].key, ov[i].value);
        if (rc != VG_OK) break;
        ld->doc = &doc;
        rc = parse_root(ld, yaml_document_get_root_node(&doc), cfg);
        yaml_document_delete(&doc);
    }
    ld->doc = saved_doc;
    if (rc == VG_OK) ld->name = saved_name;
    return rc;
}

static int load_buffer(struct vg_config *cfg, const char *name, const char *yaml, size_t len,
                       const struct vg_config_override *ov, size_t n_ov, unsigned checks, char *errstr,
                       size_t errstr_size) {
    char scratch_err[8];
    if (!errstr || errstr_size == 0) {
        errstr = scratch_err;
        errstr_size = sizeof scratch_err;
    }
    errstr[0] = '\0';
    if (!name) name = "<config>";
    struct vg_config *built = calloc(1, sizeof *built);
    struct vg_cfg_loader *ld = calloc(1, sizeof *ld);
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    bool parser_live = false, doc_live = false;
    int rc = VG_ERR_NOMEM;
    if (!built || !ld) {
        snprintf(errstr, errstr_size, "%s: out of memory", name);
        goto err;
    }
    ld->name = name;
    ld->checks = checks;
    ld->errstr = errstr;
    ld->errstr_size = errstr_size;
    rc = fill_defaults(built, ld);
    if (rc != VG_OK) goto err;
    snprintf(built->path, sizeof built->path, "%s", name);

    rc = VG_ERR_NOMEM;
    if (!yaml_parser_initialize(&parser)) goto err;
    parser_live = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)(yaml ? yaml : ""), yaml ? len : 0);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = yaml_error(ld, &parser);
        goto err;
    }
    doc_live = true;
    ld->doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root) {
        /* A second document would be silently ignored: refuse it. */
        if (!yaml_parser_load(&parser, &extra)) {
            rc = yaml_error(ld, &parser);
            goto err;
        }
        bool more = yaml_document_get_root_node(&extra) != NULL;
        unsigned long line = (unsigned long)extra.start_mark.line + 1;
        yaml_document_delete(&extra);
        if (more) {
            rc = vg_cfg_fail_line(ld, line, "more than one YAML document (only one is read)");
            goto err;
        }
    }
    rc = parse_root(ld, root, built);
    if (rc == VG_OK) rc = apply_overrides(ld, ov, n_ov, built);
    if (rc == VG_ERR_NOMEM) goto err;
    char combined[VG_PATH_MAX + 64]; /* later checks may be about an overridden value */
    if (n_ov > 0) {
        snprintf(combined, sizeof combined, "%s with %s", name, ov[0].source ? ov[0].source : "overrides");
        ld->name = combined;
    }
    char base_dir[VG_PATH_MAX];
    dir_of(name, base_dir, sizeof base_dir);
    /* Also after parse errors: the rules' own checks (a missing list file) are reported in
     * the same run; a value that failed to parse kept its default. */
    int finished = finish(ld, built, base_dir);
    if (rc == VG_OK) rc = finished;
    finished = check_use(ld, built);
    if (rc == VG_OK) rc = finished;
    if (rc != VG_OK) goto err;


    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    memcpy(cfg, built, sizeof *cfg);   /* cfg now owns the rule params */
    free(built);
    free(ld);
    return VG_OK;

err:
    if (doc_live) yaml_document_delete(&doc);
    if (parser_live) yaml_parser_delete(&parser);
    if (built) {
        vg_config_free(built);
        free(built);
    }
    free(ld);
    memset(cfg, 0, sizeof *cfg);
    /* Each error is one line whatever a value held (vg_cfg_fail replaced control bytes);
     * only messages written directly here (out of memory) remain: keep the '\n' between
     * errors, nothing else. */
    for (char *c = errstr; *c; c++)
        if (((unsigned char)*c < 0x20 && *c != '\n') || *c == 0x7f) *c = '?';
    return rc == VG_ERR_NOMEM ? VG_ERR_NOMEM : VG_ERR_INVALID;
}

int vg_config_load_buffer(struct vg_config *cfg, const char *name, const char *yaml, size_t len,
                          char *errstr, size_t errstr_size) {
    return load_buffer(cfg, name, yaml, len, NULL, 0, 0, errstr, errstr_size);
}

int vg_config_load_buffer_checked(struct vg_config *cfg, const char *name, const char *yaml, size_t len,
                                  unsigned checks, char *errstr, size_t errstr_size) {
    return load_buffer(cfg, name, yaml, len, NULL, 0, checks, errstr, errstr_size);
}

static int load_file(struct vg_config *cfg, const char *path, const struct vg_config_override *ov, size_t n_ov,
                     unsigned checks, char *errstr, size_t errstr_size);

void vg_config_apply_env(struct vg_config *cfg) {
    const char *id = getenv("VIGIL_INSTANCE_ID");
    if (id && id[0]) snprintf(cfg->input.instance_id, sizeof cfg->input.instance_id, "%s", id);
}

int vg_config_load(struct vg_config *cfg, const char *path, char *errstr, size_t errstr_size) {
    return load_file(cfg, path, NULL, 0, 0, errstr, errstr_size);
}

int vg_config_load_checked(struct vg_config *cfg, const char *path, unsigned checks, char *errstr,
                           size_t errstr_size) {
    return load_file(cfg, path, NULL, 0, checks, errstr, errstr_size);
}

int vg_config_load_overrides(struct vg_config *cfg, const char *path, const struct vg_config_override *ov,
                             size_t n_ov, char *errstr, size_t errstr_size) {
    if (!path) return load_buffer(cfg, "built-in defaults", "", 0, ov, n_ov, 0, errstr, errstr_size);
    return load_file(cfg, path, ov, n_ov, 0, errstr, errstr_size);
}

/* Reads the file at path and loads it (load_buffer). */
static int load_file(struct vg_config *cfg, const char *path, const struct vg_config_override *ov, size_t n_ov,
                     unsigned checks, char *errstr, size_t errstr_size) {
    char scratch_err[8];
    if (!errstr || errstr_size == 0) {
        errstr = scratch_err;
        errstr_size = sizeof scratch_err;
    }
    memset(cfg, 0, sizeof *cfg);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: cannot open: %s", path, strerror(errno));
        return VG_ERR_IO;
    }
    char *buf = malloc(CONFIG_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        return VG_ERR_NOMEM;
    }
    size_t len = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (read_errno) {
        free(buf);
        snprintf(errstr, errstr_size, "%s: cannot read: %s", path, strerror(read_errno));
        return VG_ERR_IO;
    }
    if (len > CONFIG_FILE_MAX) {
        free(buf);
        snprintf(errstr, errstr_size, "%s: cannot read: larger than %u bytes", path, CONFIG_FILE_MAX);
        return VG_ERR_IO;
    }
    int rc = load_buffer(cfg, path, buf, len, ov, n_ov, checks, errstr, errstr_size);
    free(buf);
    return rc;
}

void vg_config_free(struct vg_config *cfg) {
    if (!cfg) return;
    for (int id = 0; id < VG_RULE_MAX; id++) {
        void *params = cfg->rules[id].params;
        if (!params) continue;
        if (vg_rule_registry[id]->release) vg_rule_registry[id]->release(params);
        free(params);
        cfg->rules[id].params = NULL;
    }
    free(cfg->report);
    cfg->report = NULL;
}

int vg_config_threads(const struct vg_config *cfg) {
    if (cfg && cfg->engine.threads > 0) return cfg->engine.threads;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? (int)VG_MIN(cores, 1024L) : 1;
}

int vg_config_check_kafka_mode(const struct vg_config *cfg, char *errstr, size_t errstr_size) {
    if (cfg->kafka.brokers[0]) return VG_OK;
    snprintf(errstr, errstr_size,
             "%s: kafka.brokers: required to consume Kafka (no default): the bootstrap list, e.g. "
             "kafka1:9092,kafka2:9092, or embedded for the in-process development broker; --input FILE "
             "replays a file, --demo runs the demo",
             cfg->path[0] ? cfg->path : "built-in defaults");
    return VG_ERR_INVALID;
}

int64_t vg_config_account_horizon_ms(const struct vg_config *cfg) {
    int64_t longest = 0;
    for (int id = 0; id < VG_RULE_MAX; id++) {
        const struct vg_rule_def *def = vg_rule_registry[id];
        if (!cfg->rules[id].enabled || def->stage != VG_STAGE_ACCOUNT || !def->lookback_ms || !cfg->rules[id].params)
            continue;
        int64_t lookback = def->lookback_ms(cfg->rules[id].params);
        if (lookback > longest) longest = lookback;
    }
    int64_t lateness = cfg->engine.allowed_lateness_ms > 0 ? cfg->engine.allowed_lateness_ms : 0;
    return longest > INT64_MAX - lateness ? INT64_MAX : longest + lateness;
}
