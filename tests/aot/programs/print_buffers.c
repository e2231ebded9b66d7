/* print_buffers.c: the AOT test's generic reader. Links any object compiled with --name model
 * (so the descriptor is model_program) and prints each named buffer of a fresh model, one line
 * per name: "NAME size v0 v1 ..." with floats in hex-float form ("%a"). */
#include "model.h"

#include <stdio.h>

int main(int argc, char **argv) {
  kiln_model *m = kiln_model_create(&model_program);
  if (!m) {
    fprintf(stderr, "%s\n", kiln_model_error(NULL));
    return 1;
  }
  for (int i = 1; i < argc; ++i) {
    const float *data = kiln_model_buffer(m, argv[i]);
    if (!data || kiln_model_buffer_dtype(m, argv[i]) != KILN_F32) {
      fprintf(stderr, "%s: not an f32 buffer: %s\n", argv[i], kiln_model_error(m));
      return 1;
    }
    long long size = (long long)kiln_model_buffer_size(m, argv[i]);
    printf("%s %lld", argv[i], size);
    for (long long k = 0; k < size; ++k)
      printf(" %a", data[k]);
    printf("\n");
  }
  kiln_model_destroy(m);
  return 0;
}
