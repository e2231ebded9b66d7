// logreg_demo: trains the logistic regression sample, compiled ahead of time by kiln_add_model,
// on a linearly separable problem (y = 1 when x0 + 2 x1 - x2 > 0) and reports the accuracy.
#include "logreg.h"

#include <cstdio>
#include <random>

int main() {
  logreg_model model;
  if (!model.ok()) {
    std::fprintf(stderr, "error: %s\n", model.error());
    return 1;
  }
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  auto fill = [&] {
    for (int i = 0; i < LOGREG_Y_SIZE; ++i) {
      float *x = model.x() + i * 4;
      for (int k = 0; k < 4; ++k)
        x[k] = uniform(rng);
      model.y()[i] = x[0] + 2 * x[1] - x[2] > 0 ? 1.0f : 0.0f;
    }
  };
  for (int step = 1; step <= 300; ++step) {
    fill();
    if (model.run_train() != 0) {
      std::fprintf(stderr, "error: %s\n", model.error());
      return 1;
    }
    if (step % 100 == 0)
      std::printf("step %d loss %.4f\n", step, *model.loss());
  }
  fill();
  if (model.run_predict() != 0) {
    std::fprintf(stderr, "error: %s\n", model.error());
    return 1;
  }
  std::printf("accuracy %.4f on %d fresh samples\n", *model.acc(), int(LOGREG_Y_SIZE));
  return 0;
}
