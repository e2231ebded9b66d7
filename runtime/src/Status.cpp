// Status is header-only today; this file keeps a translation unit for future out-of-line helpers.
#include "kiln/runtime/Status.h"
