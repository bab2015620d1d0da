/* report.h - the `report:` section of vigil.yaml (contract section 6): who files the goAML
 * report drafts (reporting entity), the FIU's code tables as mappings, the bank directory and
 * the path of the FIU's own XSD. Parsed with the rest of the config (engine/config_report.c);
 * used by vigil-goaml (connectors/goaml/). The codes are the FIU's: vigil ships none. */
#ifndef VIGIL_REPORT_H
#define VIGIL_REPORT_H

#include "vigil/common.h"

#define VG_REPORT_TEXT_MAX 256       /* names, addresses, free text */
#define VG_REPORT_CODE_MAX 32        /* one code of an FIU code list */
#define VG_REPORT_MAP_MAX 64         /* entries of one code table */
#define VG_REPORT_VALUES_MAX 8       /* codes of one entry (indicators) */
#define VG_REPORT_BANKS_MAX 256

/* rule / channel -> one or more codes; key "default" applies to every other key. */
struct vg_report_map_entry {
    char key[VG_ID_MAX + 1];
    uint32_t n_values;
    char values[VG_REPORT_VALUES_MAX][VG_REPORT_CODE_MAX];
};

struct vg_report_map {
    uint32_t n;
    struct vg_report_map_entry entries[VG_REPORT_MAP_MAX];
};

/* A from_bank/to_bank string as sent -> the institution as the FIU wants it named. */
struct vg_report_bank {
    char key[VG_ID_MAX + 1];
    char name[VG_REPORT_TEXT_MAX];   /* institution_name */
    char swift[16];                  /* SWIFT/BIC, or "" */
    char code[VG_REPORT_CODE_MAX];   /* institution_code when there is no SWIFT/BIC */
};

struct vg_report_config {
    bool present;                              /* a report: section was written */
    char schema[1024];                         /* report.schema: the FIU's XSD file */
    char output_dir[1024];                     /* report.output_dir, default "reports" */
    char output_topic[256];                    /* report.output_topic: Kafka instead of files */
    char group[256];                           /* report.group, default "vigil-goaml" */
    char metrics_listen[256];                  /* report.metrics_listen: vigil-goaml's /metrics
                                                * (HOST:PORT as metrics.listen), "" = none */
    int64_t case_period_ms;                    /* report.case_period, default 72h */
    char rentity_id[VG_REPORT_CODE_MAX];       /* report.rentity_id */
    char rentity_branch[VG_REPORT_TEXT_MAX];   /* report.rentity_branch, "" = not written */
    char submission_code[VG_REPORT_CODE_MAX];  /* report.submission_code, default "E" */
    char entity_reference_prefix[64];          /* entity_reference = prefix + case id */
    char currency_local[8];                    /* report.currency_local, default currency.base */
    char reporting_user_code[VG_REPORT_TEXT_MAX];
    struct {
        char title[64], first_name[VG_REPORT_TEXT_MAX], last_name[VG_REPORT_TEXT_MAX];
        char email[VG_REPORT_TEXT_MAX], occupation[VG_REPORT_TEXT_MAX];
    } reporting_person;                        /* written when first_name or last_name is set */
    struct {
        char address_type[VG_REPORT_CODE_MAX], address[VG_REPORT_TEXT_MAX], city[VG_REPORT_TEXT_MAX];
        char zip[32], country_code[8];
    } location;
    char action[1024];                         /* report.action: the bank's action text */
    char default_country[8];                   /* report.default_country: a party's country when
                                                * not sent (goAML requires one); default
                                                * location.country_code */
    struct vg_report_map report_codes;         /* rule -> report_code */
    struct vg_report_map indicators;           /* rule -> report_indicators codes */
    struct vg_report_map transmode_codes;      /* channel -> transmode_code */
    struct vg_report_map funds_codes;          /* channel -> from/to_funds_code */
    uint32_t n_banks;
    struct vg_report_bank banks[VG_REPORT_BANKS_MAX]; /* key "default": any other bank */
    char clients[1024];                        /* report.clients: CSV of the bank's own accounts
                                                * (written in goAML's *_my_client form), "" = none */
    struct vg_report_bank institution;         /* report.institution: the bank itself, for its
                                                * clients' accounts (key unused; name "" = not set) */
    uint32_t n_activity_codes;                 /* report.activity_codes: report codes filed as */
    char activity_codes[VG_REPORT_VALUES_MAX][VG_REPORT_CODE_MAX]; /* <activity> (parties, no transactions) */
};

/* Fills r with the defaults (output_dir "reports", group "vigil-goaml", submission_code
 * "E", case_period 72h, everything else empty). Can't fail. */
void vg_report_defaults(struct vg_report_config *r);

/* The entry for key, else the "default" entry, else NULL. Can't fail. */
const struct vg_report_map_entry *vg_report_map_get(const struct vg_report_map *m, const char *key, size_t len);
/* Whether code is one of report.activity_codes. Can't fail. */
bool vg_report_is_activity_code(const struct vg_report_config *r, const char *code);
/* The bank for key, else the "default" bank, else NULL. Can't fail. */
const struct vg_report_bank *vg_report_bank_get(const struct vg_report_config *r, const char *key, size_t len);

#endif
