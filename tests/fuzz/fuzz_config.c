/* fuzz_config.c - libFuzzer target for the vigil.yaml loader: any bytes must load or be
 * refused with a one-line message, never crash, leak or hang. Seeds: corpus/fuzz_config/. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static struct vg_config cfg; /* ~50 KB: keep it off the fuzzer's stack */
    char errstr[512];
    int rc = vg_config_load_buffer(&cfg, "fuzz.yaml", (const char *)data, size, errstr, sizeof errstr);
    if (rc != VG_OK) {
        /* A refusal is one line that names the input. */
        if (memchr(errstr, '\n', strlen(errstr)) || strncmp(errstr, "fuzz.yaml", 9) != 0) __builtin_trap();
    }
    vg_config_free(&cfg);
    return 0;
}
