/* errors.c: the AOT test's error-path program. Every misuse of the C API must return an error
 * code or NULL with a message, never crash; prints one line per case for the test to check. */
#include "mnist_mlp.h"

#include <stdio.h>
#include <string.h>

int main(void) {
  kiln_model *none = kiln_model_create(NULL);
  printf("null-program %d %s\n", none == NULL, kiln_model_error(NULL));

  kiln_program future = mnist_mlp_program;
  future.version = KILN_PROGRAM_VERSION + 1;
  kiln_model *wrong = kiln_model_create(&future);
  printf("bad-version %d %s\n", wrong == NULL, kiln_model_error(NULL));

  kiln_model *m = kiln_model_create(&mnist_mlp_program);
  if (!m)
    return 1;
  /* Each call in its own statement: the error string is valid until the next call. */
  long long size = (long long)kiln_model_buffer_size(m, "nope");
  int dtype = kiln_model_buffer_dtype(m, "nope");
  int missing = kiln_model_buffer(m, "nope") == NULL;
  printf("unknown-buffer %d %lld %d %s\n", missing, size, dtype, kiln_model_error(m));
  int rc = kiln_model_run(m, "fly");
  printf("unknown-entry %d %s\n", rc, kiln_model_error(m));
  printf("null-entry %d\n", kiln_model_run(m, NULL) != 0);
  printf("dtypes %d %d %d\n", kiln_model_buffer_dtype(m, "x"), kiln_model_buffer_dtype(m, "labels"),
         kiln_model_buffer_dtype(m, "d1_w"));
  printf("sizes %lld %lld %lld\n", (long long)kiln_model_buffer_size(m, "d1_w"),
         (long long)kiln_model_buffer_size(m, "logits"), (long long)kiln_model_buffer_size(m, "loss"));
  /* After the failures the model still runs, and the error is cleared. */
  memset(mnist_mlp_x(m), 0, sizeof(float) * MNIST_MLP_X_SIZE);
  for (int i = 0; i < MNIST_MLP_LABELS_SIZE; ++i)
    mnist_mlp_labels(m)[i] = 3;
  rc = mnist_mlp_run_predict(m);
  printf("predict-after-errors %d [%s]\n", rc, kiln_model_error(m));
  printf("runs %llu\n", (unsigned long long)kiln_model_run_count(m));
  kiln_model_destroy(m);
  kiln_model_destroy(NULL);
  return 0;
}
