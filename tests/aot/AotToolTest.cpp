// The AOT toolchain around the object: the CMake package (find_package(Kiln), kiln_add_model) and
// pkg-config file as installed, kilnc compile's errors, and models run concurrently through the
// C API with their kernel faults kept apart.
#include "AotFixture.h"

#include "kiln/runtime/Safetensors.h"

namespace kiln::aottest {
namespace {

// A separate CMake project (samples/aot_cmake) builds against the installed package: kiln_add_model
// runs the installed kilnc at build time, the program trains logistic regression through the
// generated C++ class, and learns the separable problem (a broken train step stays near 0.5).
TEST_F(AotTest, CmakePackageBuildsTheSampleProject) {
  install();
  std::string build = path("cmake-sample");
  ASSERT_EQ(sh("cmake -S " + source("samples/aot_cmake") + " -B " + build +
               " -DCMAKE_PREFIX_PATH=" + prefix() + " -DCMAKE_CXX_FLAGS='" + sanitizerFlags() +
               "' -DCMAKE_EXE_LINKER_FLAGS='" + sanitizerFlags() + "'"),
            0)
      << out_ << err_;
  ASSERT_EQ(sh("cmake --build " + build), 0) << out_ << err_;
  EXPECT_NE(out_.find("kilnc compile"), std::string::npos) << out_;
  ASSERT_EQ(sh(build + "/logreg_demo"), 0) << err_;
  std::vector<float> acc = floatsAfter(out_, "accuracy");
  ASSERT_FALSE(acc.empty()) << out_;
  EXPECT_GT(acc[0], 0.9f) << out_;
  std::vector<float> first = floatsAfter(out_, "step 100"), last = floatsAfter(out_, "step 300");
  ASSERT_EQ(first.size(), 2u) << out_;
  ASSERT_EQ(last.size(), 2u) << out_;
  EXPECT_LT(last[1], first[1]) << out_;
}

// pkg-config gives what `cc main.c model.o $(pkg-config ...)` needs, relative to the prefix.
TEST_F(AotTest, PkgConfigFileLinksAProgram) {
  install();
  compileModel("mnist_mlp", "mnist_mlp", "--train");
  std::string pc = "env PKG_CONFIG_PATH=" + prefix() + "/lib/pkgconfig pkg-config ";
  ASSERT_EQ(sh(pc + "--cflags --libs kiln-runtime"), 0) << err_;
  std::string flags = out_.substr(0, out_.find('\n'));
  EXPECT_NE(flags.find("-lkiln_runtime"), std::string::npos) << flags;
  EXPECT_NE(flags.find("-lm"), std::string::npos) << flags;
  ASSERT_EQ(sh("cc -std=c99" + sanitizerFlags() + " -I" + dir_.string() + " " + source("tests/aot/programs/errors.c") +
               " " + path("mnist_mlp.o") + " " + flags + " -o " + path("errors")),
            0)
      << err_;
  ASSERT_EQ(sh(path("errors")), 0) << err_;
  EXPECT_NE(out_.find("runs 1\n"), std::string::npos) << out_;
}

// Wrong command lines exit 2, wrong input exits 1, both with a message that says what is wrong,
// and neither leaves an output file behind.
TEST_F(AotTest, KilncCompileRejectsBadInput) {
  install();
  std::string kilnc = prefix() + "/bin/kilnc compile ";
  std::string model = source("samples/mnist_mlp.json");
  std::string outputs = " -o " + path("m.o") + " --header " + path("m.h");
  struct Case {
    std::string args;
    int exit;
    std::string message;
  };
  for (const Case &c : std::vector<Case>{
           {model + " -o " + path("m.o"), 2, "--header NAME.h are both required"},
           {model + outputs + " --name 1bad", 2, "'1bad' is not a C identifier"},
           {model + outputs + " --name int", 2, "'int' is not a C identifier"},
           {model + outputs + " --target-cpu pentium-z", 1, "'pentium-z' is not a CPU LLVM knows"},
           {source("samples/linreg.json") + outputs + " --train --pipeline " +
                "decompose,fold,simplify,cse,dce,select-dnnl,fuse,plan-memory",
            1, "ahead-of-time objects contain generated code only"},
           {path("missing.json") + outputs, 1, "missing.json"},
       }) {
    EXPECT_EQ(sh(kilnc + c.args), c.exit) << c.args << "\n" << err_;
    EXPECT_NE(err_.find(c.message), std::string::npos) << c.args << "\n" << err_;
    EXPECT_FALSE(fs::exists(path("m.o"))) << c.args;
    EXPECT_FALSE(fs::exists(path("m.h"))) << c.args;
  }
}

// Four threads, each with its own model of one descriptor, run at once (2 OpenMP workers each);
// thread 0 feeds a gather index out of range. Its runs all fail with the gather's message, the
// others' never do and give the table's rows: faults are per run, not per process.
TEST_F(AotTest, ConcurrentModelsKeepTheirOwnFaults) {
  install();
  compileFile(source("tests/aot/programs/lookup.json"), "lookup", "");
  link("cc", "threads.c", path("lookup.o"), "threads", "-pthread");
  ASSERT_EQ(sh(path("threads")), 0) << err_;
  EXPECT_NE(out_.find("missed 0 stray 0 wrong 0 runs 800\n"), std::string::npos) << out_;
}

// --params: the object starts from trained params (kilnc train --save-params), bit for bit;
// params of another graph are refused with the file's name and nothing is written.
TEST_F(AotTest, ParamsFileBecomesTheInitialState) {
  install();
  std::string kilnc = prefix() + "/bin/kilnc ";
  std::string model = source("samples/mlp_binary.json");
  ASSERT_EQ(sh(kilnc + "make-inputs " + model + " --batches 2 -o " + path("b.safetensors")), 0)
      << err_;
  ASSERT_EQ(sh(kilnc + "train " + model + " --inputs " + path("b.safetensors") +
               " --steps 3 --save-params " + path("p.safetensors")),
            0)
      << err_;
  compileFile(model, "model", "--name model --params " + path("p.safetensors"));
  link("cc", "print_buffers.c", path("model.o"), "print_buffers");
  auto trained = readSafetensors(path("p.safetensors"));
  ASSERT_TRUE(trained.ok()) << trained.status().message();
  ASSERT_FALSE(trained->empty());
  std::string names;
  for (const auto &[name, t] : *trained)
    names += " " + name;
  ASSERT_EQ(sh(path("print_buffers") + names), 0) << err_;
  Graph g = load("mlp_binary");
  auto initial = jit(g);
  ASSERT_TRUE(initial);
  for (const auto &[name, t] : *trained) {
    std::vector<float> got = floatsAfter(out_, name), want = floats(t);
    ASSERT_EQ(got.size(), want.size() + 1) << name << "\n" << out_;
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(bits(got[i + 1]), bits(want[i])) << name << "[" << i << "]";
    EXPECT_NE(floats(result(initial->params(), name)), want) << name << ": training moved it";
  }
  EXPECT_EQ(sh(kilnc + "compile " + source("samples/mnist_mlp.json") + " -o " + path("m.o") +
               " --header " + path("m.h") + " --params " + path("p.safetensors")),
            1);
  EXPECT_NE(err_.find("p.safetensors: error:"), std::string::npos) << err_;
  EXPECT_FALSE(fs::exists(path("m.o")));
}

} // namespace
} // namespace kiln::aottest
