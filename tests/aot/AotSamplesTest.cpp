// Every sample compiled ahead of time, in this process: compileAot's object linked into a shared
// library and dlopen'ed (its kernel ABI calls resolve to this binary's runtime, exported with
// -rdynamic), run through the C API, and compared bit for bit with the JIT on the same feeds.
#include "AotFixture.h"

#include "compiler/codegen/Aot.h"
#include "kiln/runtime.h"

#include <dlfcn.h>

namespace kiln::aottest {
namespace {

/// `g`'s AOT descriptor, from a library made of compileAot's object; null on failure.
const kiln_program *loadObject(const Graph &g, const fs::path &dir) {
  codegen::AotOptions opts;
  opts.compile.training = !g.trainSteps().empty();
  opts.name = "t_" + codegen::aotNameFor(g.name());
  auto art = codegen::compileAot(g, opts);
  EXPECT_TRUE(art.ok()) << g.name() << ": " << art.status().message();
  if (!art.ok())
    return nullptr;
  fs::path object = dir / (art->name + ".o"), library = dir / (art->name + ".so");
  std::ofstream(object, std::ios::binary)
      .write(art->object.data(), std::streamsize(art->object.size()));
  std::string link = "cc -shared -o " + library.string() + " " + object.string() + " -lm";
  EXPECT_EQ(std::system(link.c_str()), 0) << link;
  // RTLD_LOCAL and never closed: the descriptor points into the library.
  void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  EXPECT_TRUE(handle) << dlerror();
  return handle ? static_cast<const kiln_program *>(
                      dlsym(handle, (art->name + "_program").c_str()))
                : nullptr;
}

/// Writes `feeds` into the model's input buffers.
void feed(kiln_model *m, const NamedTensors &feeds) {
  for (const auto &[name, t] : feeds) {
    void *data = kiln_model_buffer(m, name.c_str());
    ASSERT_TRUE(data) << kiln_model_error(m);
    ASSERT_EQ(kiln_model_buffer_size(m, name.c_str()), t.numElements()) << name;
    std::memcpy(data, t.raw(), t.byteSize());
  }
}

/// Every result the JIT returned equals the model's buffer of that name, bit for bit.
void expectSame(kiln_model *m, const NamedTensors &want, const std::string &where) {
  for (const auto &[name, t] : want) {
    const void *got = kiln_model_buffer(m, name.c_str());
    ASSERT_TRUE(got) << where << ": " << kiln_model_error(m);
    ASSERT_EQ(kiln_model_buffer_size(m, name.c_str()), t.numElements()) << where << " " << name;
    EXPECT_EQ(std::memcmp(got, t.raw(), t.byteSize()), 0) << where << ": '" << name << "' differs";
  }
}

// The tolerance is zero, as in AotTest.CProgramTrainsBitForBitLikeTheJit: same code, same
// buffers, same run counter. Predict, then every train step twice in declaration order (so the
// second run of each starts from updated params), then every param and optimizer slot.
TEST_F(AotTest, EverySampleMatchesTheJitBitForBit) {
  for (const char *model : {"linreg", "logreg", "softmax_reg", "mlp_binary", "mnist_mlp",
                            "cnn_mnist", "cnn_cifar", "lstm", "autoencoder", "gan",
                            "transformer"}) {
    SCOPED_TRACE(model);
    Graph g = load(model);
    const kiln_program *program = loadObject(g, dir_);
    auto exe = jit(g);
    auto feeds = randomFeeds(g, 11);
    ASSERT_TRUE(program && exe && feeds.ok());
    kiln_model *m = kiln_model_create(program);
    ASSERT_TRUE(m) << kiln_model_error(nullptr);
    feed(m, *feeds);
    ASSERT_EQ(kiln_model_run(m, "predict"), 0) << kiln_model_error(m);
    auto predicted = exe->run(*feeds);
    ASSERT_TRUE(predicted.ok()) << predicted.status().message();
    expectSame(m, *predicted, "predict");
    for (int round = 0; round < 2; ++round)
      for (const TrainStep &step : g.trainSteps()) {
        feed(m, *feeds);
        ASSERT_EQ(kiln_model_run(m, step.name.c_str()), 0) << kiln_model_error(m);
        auto r = exe->trainStep(step.name, *feeds);
        ASSERT_TRUE(r.ok()) << r.status().message();
        expectSame(m, *r, step.name + " round " + std::to_string(round));
      }
    expectSame(m, exe->params(), "params after training");
    EXPECT_EQ(kiln_model_run_count(m), exe->runCount());
    kiln_model_destroy(m);
  }
}

} // namespace
} // namespace kiln::aottest
