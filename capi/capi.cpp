// The C ABI over the C++ core. Every entry point is noexcept and guarded: no exception crosses.
#include "pglift.h"

#include "pglift/version.hpp"

extern "C" const char* pglift_version(void) { return pglift::version(); }
