/* returns.c - simple / log / cumulative returns for float32 and float64. */
#include "tk_scan.h"
#include <math.h>

#define TK_SFX f64
#define TK_ELEM double
#include "returns.inc.h"
#undef TK_SFX
#undef TK_ELEM

#define TK_SFX f32
#define TK_ELEM float
#include "returns.inc.h"
#undef TK_SFX
#undef TK_ELEM

/* The C library's log per element, in the shape of a NumPy loop: the
 * fallback of tk_numpy_log (module.c) when numpy.log has no float64 loop. */
void tk_log_libm(char **args, const npy_intp *dims, const npy_intp *steps, void *data)
{
    (void)data;
    const char *in = args[0];
    char *out = args[1];
    for (npy_intp i = 0; i < dims[0]; i++, in += steps[0], out += steps[1]) {
        tk_st_f64(out, log(tk_ld_f64(in)));
    }
}
