// two_models.cpp: the AOT test's C++ program linking three objects into one binary: the MNIST
// MLP (mnist_mlp), the same graph again under another name (mlp_copy: identical kernel code, so
// any symbol that were not local would clash) and the binary MLP. Runs each one's predict on the
// test's feeds and prints the outputs in hex-float form.
#include "mlp_binary.h"
#include "mlp_copy.h"
#include "mnist_mlp.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

template <typename T> bool load(const std::string &path, T *data, long long count) {
  std::ifstream f(path, std::ios::binary);
  return bool(f.read(reinterpret_cast<char *>(data), std::streamsize(sizeof(T) * count)));
}

void print(const char *what, const float *data, long long count) {
  std::printf("%s", what);
  for (long long i = 0; i < count; ++i)
    std::printf(" %a", data[i]);
  std::printf("\n");
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2)
    return 1;
  std::string dir = argv[1];
  mnist_mlp_model a;
  mlp_copy_model b;
  mlp_binary_model c;
  if (!a.ok() || !b.ok() || !c.ok())
    return 1;
  static_assert(mnist_mlp_model::arena_bytes == MNIST_MLP_ARENA_BYTES, "constants");
  if (!load(dir + "/x.bin", a.x(), MNIST_MLP_X_SIZE) ||
      !load(dir + "/labels.bin", a.labels(), MNIST_MLP_LABELS_SIZE) ||
      !load(dir + "/x.bin", b.x(), MLP_COPY_X_SIZE) ||
      !load(dir + "/labels.bin", b.labels(), MLP_COPY_LABELS_SIZE) ||
      !load(dir + "/bin_x.bin", c.x(), MLP_BINARY_X_SIZE) ||
      !load(dir + "/bin_y.bin", c.y(), MLP_BINARY_Y_SIZE)) {
    std::fprintf(stderr, "cannot read the feeds in %s\n", dir.c_str());
    return 1;
  }
  if (a.run_predict() || b.run_predict() || c.run_predict()) {
    std::fprintf(stderr, "%s%s%s\n", a.error(), b.error(), c.error());
    return 1;
  }
  print("mnist_mlp", a.logits(), MNIST_MLP_LOGITS_SIZE);
  print("mlp_copy", b.logits(), MLP_COPY_LOGITS_SIZE);
  print("mlp_binary", c.prob(), MLP_BINARY_PROB_SIZE);
  // Training one model leaves the other's params alone: the models share no state.
  if (a.run_train())
    return 1;
  std::printf("after-train-copy-param %a %a\n", a.d1_w()[7], b.d1_w()[7]);
  return 0;
}
