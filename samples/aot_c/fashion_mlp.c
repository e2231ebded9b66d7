/* fashion_mlp.c: trains and evaluates the MNIST MLP (samples/mnist_mlp.json), compiled ahead of
 * time by kilnc, from a plain C program that links the Kiln runtime alone.
 *
 * Data: Fashion-MNIST IDX files from DATA_DIR (default /usr/share/datasets/fashion-mnist, what
 * Debian's dataset-fashion-mnist installs; .gz files are read through `gzip -dc`). Without them
 * it trains on generated data (each class a noisy copy of its own random pattern) and says so.
 *
 * usage: fashion_mlp [STEPS [DATA_DIR]]   (default 1000 steps of 64 images) */
#define _POSIX_C_SOURCE 200809L /* popen, pclose under -std=c99 */

#include "mnist_mlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kPixels = 28 * 28, kBatch = 64 };

/* An IDX file's payload after its header (magic, then one 4-byte size per dimension), or NULL. */
static unsigned char *readIdx(const char *dir, const char *name, long *count) {
  char command[4200];
  snprintf(command, sizeof command, "gzip -dc '%s/%s.gz' 2>/dev/null", dir, name);
  FILE *f = popen(command, "r");
  if (!f)
    return NULL;
  unsigned char header[4];
  unsigned char *data = NULL;
  if (fread(header, 1, 4, f) == 4 && header[0] == 0 && header[1] == 0 && header[2] == 8) {
    long n = 1;
    for (int d = 0; d < header[3]; ++d) {
      unsigned char size[4];
      if (fread(size, 1, 4, f) != 4) {
        n = 0;
        break;
      }
      long dim = ((long)size[0] << 24) | (size[1] << 16) | (size[2] << 8) | size[3];
      if (d == 0)
        *count = dim;
      n *= dim;
    }
    data = n > 0 ? malloc((size_t)n) : NULL;
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
      free(data);
      data = NULL;
    }
  }
  pclose(f);
  return data;
}

/* Generated data: `count` images whose class is the label; pixels are the class's fixed random
 * pattern plus noise, so the classes are learnable. */
static void generate(long count, unsigned char **images, unsigned char **labels, unsigned seed) {
  static unsigned char patterns[10][kPixels];
  srand(1234);
  for (int c = 0; c < 10; ++c)
    for (int p = 0; p < kPixels; ++p)
      patterns[c][p] = (unsigned char)(rand() % 256);
  srand(seed);
  *images = malloc((size_t)count * kPixels);
  *labels = malloc((size_t)count);
  for (long i = 0; i < count; ++i) {
    int c = rand() % 10;
    (*labels)[i] = (unsigned char)c;
    for (int p = 0; p < kPixels; ++p) {
      int v = patterns[c][p] + rand() % 160 - 80;
      (*images)[i * kPixels + p] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
}

/* Copies batch `b` (wrapping around the data set) into the model's inputs, pixels scaled to
 * [0, 1]. */
static void feed(kiln_model *m, const unsigned char *images, const unsigned char *labels,
                 long count, long b) {
  float *x = mnist_mlp_x(m);
  int32_t *y = mnist_mlp_labels(m);
  for (int i = 0; i < kBatch; ++i) {
    long k = (b * kBatch + i) % count;
    for (int p = 0; p < kPixels; ++p)
      x[i * kPixels + p] = images[k * kPixels + p] / 255.0f;
    y[i] = labels[k];
  }
}

int main(int argc, char **argv) {
  long steps = argc > 1 ? atol(argv[1]) : 1000;
  const char *dir = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
  long trainCount = 0, testCount = 0, n = 0;
  unsigned char *trainX = readIdx(dir, "train-images-idx3-ubyte", &trainCount);
  unsigned char *trainY = readIdx(dir, "train-labels-idx1-ubyte", &n);
  unsigned char *testX = readIdx(dir, "t10k-images-idx3-ubyte", &testCount);
  unsigned char *testY = readIdx(dir, "t10k-labels-idx1-ubyte", &n);
  if (!trainX || !trainY || !testX || !testY) {
    printf("data: Fashion-MNIST not found in %s; using generated data\n", dir);
    trainCount = 6400;
    testCount = 1280;
    generate(trainCount, &trainX, &trainY, 1);
    generate(testCount, &testX, &testY, 2);
  } else {
    printf("data: Fashion-MNIST, %ld training and %ld test images\n", trainCount, testCount);
  }

  kiln_model *m = kiln_model_create(&mnist_mlp_program);
  if (!m) {
    fprintf(stderr, "error: %s\n", kiln_model_error(NULL));
    return 1;
  }
  printf("model: %lld bytes of arena, %lld bytes of state (%lld of params)\n",
         MNIST_MLP_ARENA_BYTES, MNIST_MLP_STATE_BYTES, MNIST_MLP_PARAM_BYTES);
  double lossSum = 0;
  for (long s = 0; s < steps; ++s) {
    feed(m, trainX, trainY, trainCount, s);
    if (mnist_mlp_run_train(m) != 0) {
      fprintf(stderr, "error: %s\n", kiln_model_error(m));
      return 1;
    }
    lossSum += *mnist_mlp_loss(m);
    if ((s + 1) % (steps < 10 ? 1 : steps / 10) == 0) {
      printf("step %ld: mean loss %.4f\n", s + 1, lossSum / (steps < 10 ? 1 : steps / 10));
      lossSum = 0;
    }
  }
  /* Evaluation: predict on every whole test batch; acc is the batch's accuracy. */
  double correct = 0;
  long batches = testCount / kBatch;
  for (long b = 0; b < batches; ++b) {
    feed(m, testX, testY, testCount, b);
    if (mnist_mlp_run_predict(m) != 0) {
      fprintf(stderr, "error: %s\n", kiln_model_error(m));
      return 1;
    }
    correct += *mnist_mlp_acc(m) * kBatch;
  }
  printf("test accuracy %.4f on %ld images\n", correct / (double)(batches * kBatch),
         batches * kBatch);
  kiln_model_destroy(m);
  free(trainX);
  free(trainY);
  free(testX);
  free(testY);
  return 0;
}
