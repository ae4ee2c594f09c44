// libFuzzer's driver (compiler-rt, linked by -sanitize=fuzzer): runs the fuzzing loop on a callback with the
// process's arguments. Declared here because libFuzzer ships no header.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
