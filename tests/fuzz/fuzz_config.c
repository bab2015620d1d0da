/* fuzz_config.c - libFuzzer target for the vigil.yaml loader: any bytes must load or be
 * refused with one line per error, each naming the input, never crash, leak or hang. Seeds: corpus/fuzz_config/. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static struct vg_config cfg; /* ~50 KB: keep it off the fuzzer's stack */
    char errstr[4096];
    int rc = vg_config_load_buffer(&cfg, "fuzz.yaml", (const char *)data, size, errstr, sizeof errstr);
    if (rc != VG_OK) {
        /* A refusal is one line per error, each naming the input, no other control bytes. */
        for (const char *l = errstr; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
            if (strncmp(l, "fuzz.yaml", 9) != 0) __builtin_trap();
        for (const char *c = errstr; *c; c++)
            if ((unsigned char)*c < 0x20 && *c != '\n') __builtin_trap();
    }
    vg_config_free(&cfg);
    return 0;
}
