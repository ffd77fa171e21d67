// The functions are static inline in the header; SwiftPM needs one source file for a C target.
#include "CMallocTuning.h"
