/* returns.c - simple / log / cumulative returns for float32 and float64. */
#include "tk_scan.h"
#include <math.h>

#define TK_SFX f64
#include "returns.inc.h"
#undef TK_SFX

#define TK_SFX f32
#include "returns.inc.h"
#undef TK_SFX
