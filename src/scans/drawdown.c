/* drawdown.c - drawdown family for float32 and float64 (scalar path). */
#include "tk_scan.h"
#include <math.h>

#define TK_SFX f64
#include "drawdown.inc.h"
#undef TK_SFX

#define TK_SFX f32
#include "drawdown.inc.h"
#undef TK_SFX
