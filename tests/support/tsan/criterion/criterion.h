/* criterion.h (TSan stand-in) - a minimal in-process implementation of the Criterion API the
 * tsan_* test variants use. Criterion itself cannot start under ThreadSanitizer: BoxFort maps
 * its inheritable arena at random fixed addresses that TSan reserves for shadow memory
 * ("Could not initialize inheritable arena"). Tests run one after another in one process;
 * a failed cr_assert ends its test (longjmp), cr_expect records and goes on. Test code only. */
#ifndef VIGIL_TSAN_CRITERION_H
#define VIGIL_TSAN_CRITERION_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vg_shim_test {
    const char *suite, *name;
    void (*fn)(void);
};

static struct vg_shim_test vg_shim_tests[256];
static int vg_shim_count;
static int vg_shim_failed_checks;
static jmp_buf vg_shim_jmp;

static inline void vg_shim_register(const char *suite, const char *name, void (*fn)(void)) {
    if (vg_shim_count < 256) vg_shim_tests[vg_shim_count++] = (struct vg_shim_test){suite, name, fn};
}

/* fmt may be "" (no message): no format attribute, GCC would flag the empty format */
static inline void vg_shim_check(bool fatal, const char *expr, const char *file, int line, const char *fmt, ...) {
    vg_shim_failed_checks++;
    fprintf(stderr, "[----] %s:%d: Assertion Failed: %s\n", file, line, expr);
    if (fmt && fmt[0]) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "[----]   ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
    }
    if (fatal) longjmp(vg_shim_jmp, 1);
}

__attribute__((format(printf, 1, 2))) static inline void vg_shim_log(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[----] ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

/* Test(suite, name, .timeout = ...): extra options are accepted and ignored. */
#define Test(suite, name, ...)                                                                    \
    static void suite##_##name(void);                                                             \
    __attribute__((constructor)) static void vg_shim_reg_##suite##_##name(void) {                \
        vg_shim_register(#suite, #name, suite##_##name);                                          \
    }                                                                                             \
    static void suite##_##name(void)

#define VG_SHIM_CHECK(fatal, cond, expr, ...)                                                     \
    do {                                                                                          \
        if (!(cond)) vg_shim_check(fatal, expr, __FILE__, __LINE__, "" __VA_ARGS__);             \
    } while (0)

#define cr_assert(c, ...) VG_SHIM_CHECK(true, (c), #c, __VA_ARGS__)
#define cr_expect(c, ...) VG_SHIM_CHECK(false, (c), #c, __VA_ARGS__)
#define cr_assert_eq(a, b, ...) VG_SHIM_CHECK(true, (a) == (b), #a " == " #b, __VA_ARGS__)
#define cr_expect_eq(a, b, ...) VG_SHIM_CHECK(false, (a) == (b), #a " == " #b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) VG_SHIM_CHECK(true, (a) != (b), #a " != " #b, __VA_ARGS__)
#define cr_expect_neq(a, b, ...) VG_SHIM_CHECK(false, (a) != (b), #a " != " #b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...) VG_SHIM_CHECK(true, (a) > (b), #a " > " #b, __VA_ARGS__)
#define cr_expect_gt(a, b, ...) VG_SHIM_CHECK(false, (a) > (b), #a " > " #b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) VG_SHIM_CHECK(true, (a) >= (b), #a " >= " #b, __VA_ARGS__)
#define cr_expect_geq(a, b, ...) VG_SHIM_CHECK(false, (a) >= (b), #a " >= " #b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...) VG_SHIM_CHECK(true, (a) < (b), #a " < " #b, __VA_ARGS__)
#define cr_expect_lt(a, b, ...) VG_SHIM_CHECK(false, (a) < (b), #a " < " #b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) VG_SHIM_CHECK(true, (a) <= (b), #a " <= " #b, __VA_ARGS__)
#define cr_expect_leq(a, b, ...) VG_SHIM_CHECK(false, (a) <= (b), #a " <= " #b, __VA_ARGS__)
#define cr_assert_null(p, ...) VG_SHIM_CHECK(true, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_expect_null(p, ...) VG_SHIM_CHECK(false, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...) VG_SHIM_CHECK(true, (p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_expect_not_null(p, ...) VG_SHIM_CHECK(false, (p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...) VG_SHIM_CHECK(true, strcmp((a), (b)) == 0, #a " == " #b, __VA_ARGS__)
#define cr_expect_str_eq(a, b, ...) VG_SHIM_CHECK(false, strcmp((a), (b)) == 0, #a " == " #b, __VA_ARGS__)
#define cr_expect_str_neq(a, b, ...) VG_SHIM_CHECK(false, strcmp((a), (b)) != 0, #a " != " #b, __VA_ARGS__)
#define cr_log_info(...) vg_shim_log(__VA_ARGS__)

/* Runs one test; a fatal check returns here. No locals live across the longjmp. */
static __attribute__((noinline)) void vg_shim_run(void (*fn)(void)) {
    if (setjmp(vg_shim_jmp) == 0) fn();
}

/* Runs every test in registration order; exit status 1 when any check failed. Arguments
 * (--jobs N, as ctest passes them) are ignored. */
int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    int failed_tests = 0;
    for (int i = 0; i < vg_shim_count; i++) {
        int before = vg_shim_failed_checks;
        fprintf(stderr, "[RUN ] %s::%s\n", vg_shim_tests[i].suite, vg_shim_tests[i].name);
        vg_shim_run(vg_shim_tests[i].fn);
        bool ok = vg_shim_failed_checks == before;
        failed_tests += !ok;
        fprintf(stderr, "[%s] %s::%s\n", ok ? "PASS" : "FAIL", vg_shim_tests[i].suite, vg_shim_tests[i].name);
    }
    fprintf(stderr, "[====] Synthesis: Tested: %d | Passing: %d | Failing: %d\n", vg_shim_count,
            vg_shim_count - failed_tests, failed_tests);
    return failed_tests ? 1 : 0;
}

#endif
