/* fuzz_lists.c - libFuzzer target for sanctions screening's untrusted text: any bytes as a
 * party name (normalised, matched against a small list) and as a TSV or OpenSanctions CSV
 * list file (first byte picks the format) must load or fail with "FILE:LINE: why", never
 * crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/lists.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static struct vg_screen_list *list;
    static char path[64];
    if (!list) {
        list = vg_screen_list_new("fuzz", "0");
        if (!list || vg_screen_add_entry(list, "E1", 2, VG_SCREEN_PERSON) != VG_OK ||
            vg_screen_add_name(list, "Aleksandr Shcherbakov", 21, VG_SCREEN_GOOD) != VG_OK ||
            vg_screen_add_name(list, "Sasha Bolshoi", 13, VG_SCREEN_LOW) != VG_OK ||
            vg_screen_add_birth(list, 19700101, 19701231) != VG_OK || vg_screen_list_finish(list) != VG_OK)
            abort();
        snprintf(path, sizeof path, "/tmp/vg-fuzz-lists.%d", (int)getpid());
    }
    /* as a party name (an exact-size heap copy so ASan flags any overread) */
    char *name = malloc(size ? size : 1);
    if (!name) return 0;
    if (size) memcpy(name, data, size);
    struct vg_screen_name_norm norm;
    if (vg_screen_normalise(name, VG_MIN(size, (size_t)VG_NAME_MAX), &norm) == VG_OK) {
        if (norm.n_tokens > VG_SCREEN_TOKENS_MAX || strlen(norm.text) >= VG_SCREEN_NORM_MAX) abort();
        struct vg_screen_party party = {name, VG_MIN(size, (size_t)VG_NAME_MAX), name, VG_MIN(size, (size_t)VG_ID_MAX), 19700514};
        struct vg_screen_hit hits[4];
        size_t n = vg_screen_match(list, &party, 0.5, hits, 4);
        for (size_t i = 0; i < n; i++)
            if (!(hits[i].score >= 0.5 && hits[i].score <= 1.0)) abort();
    }
    free(name);
    /* as a list file */
    if (size == 0) return 0;
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    char err[1024] = "";
    struct vg_screen_list *loaded = NULL;
    enum vg_list_format format = data[0] & 1 ? VG_LIST_OPENSANCTIONS_CSV : VG_LIST_TSV;
    if (vg_list_load(format, path, "f", &loaded, err, sizeof err) == VG_OK) {
        if (!loaded) abort();
        vg_screen_list_free(loaded);
    } else if (loaded || strncmp(err, path, strlen(path)) != 0 || err[strlen(path)] != ':') {
        abort();
    }
    unlink(path);
    return 0;
}
