/* train_mlp.c: the AOT test's plain C program. Trains the AOT-compiled MNIST MLP on batches the
 * test wrote (DIR/x.bin, DIR/labels.bin), then predicts on batch 0; prints every number in C99
 * hex-float form ("%a") so the test can compare bits with the JIT. */
#include "mnist_mlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *readAll(const char *dir, const char *name, size_t bytes) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  void *data = malloc(bytes);
  if (!f || !data || fread(data, 1, bytes, f) != bytes) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  fclose(f);
  return data;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: train_mlp DIR STEPS STEP_NAME\n");
    return 1;
  }
  int steps = atoi(argv[2]);
  float *x = readAll(argv[1], "x.bin", sizeof(float) * steps * MNIST_MLP_X_SIZE);
  int32_t *labels = readAll(argv[1], "labels.bin", sizeof(int32_t) * steps * MNIST_MLP_LABELS_SIZE);
  kiln_model *m = kiln_model_create(&mnist_mlp_program);
  if (!m) {
    fprintf(stderr, "%s\n", kiln_model_error(NULL));
    return 1;
  }
  long long shape[] = MNIST_MLP_X_SHAPE;
  printf("x %lld %lld %lld size %lld arena %lld\n", shape[0], shape[1], shape[2],
         (long long)kiln_model_buffer_size(m, "x"), (long long)MNIST_MLP_ARENA_BYTES);
  for (int s = 0; s < steps; ++s) {
    memcpy(mnist_mlp_x(m), x + (size_t)s * MNIST_MLP_X_SIZE, sizeof(float) * MNIST_MLP_X_SIZE);
    memcpy(mnist_mlp_labels(m), labels + (size_t)s * MNIST_MLP_LABELS_SIZE,
           sizeof(int32_t) * MNIST_MLP_LABELS_SIZE);
    if (kiln_model_run(m, argv[3]) != 0) {
      fprintf(stderr, "%s\n", kiln_model_error(m));
      return 1;
    }
    printf("step %d loss %a acc %a\n", s, *kiln_model_buffer(m, "loss"), *mnist_mlp_acc(m));
  }
  memcpy(mnist_mlp_x(m), x, sizeof(float) * MNIST_MLP_X_SIZE);
  memcpy(mnist_mlp_labels(m), labels, sizeof(int32_t) * MNIST_MLP_LABELS_SIZE);
  if (mnist_mlp_run_predict(m) != 0) {
    fprintf(stderr, "%s\n", kiln_model_error(m));
    return 1;
  }
  printf("logits");
  for (int i = 0; i < MNIST_MLP_LOGITS_SIZE; ++i)
    printf(" %a", mnist_mlp_logits(m)[i]);
  printf("\n");
  kiln_model_destroy(m);
  free(x);
  free(labels);
  return 0;
}
