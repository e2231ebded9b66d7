// KernelCheck: helpers of the movement, normalisation and random kernel tests: build a one-op
// graph, run its LLVM kernel (KernelJit.h) and evalOp on the same operands, and compare.
#pragma once

#include "compiler/codegen/KernelJit.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Graph.h"
#include "kiln/runtime/Parallel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace kiln::codegen::kernelcheck {

inline Jit &jit() {
  static std::unique_ptr<Jit> instance = [] {
    auto j = Jit::create();
    EXPECT_TRUE(j.ok()) << j.message();
    return j.take();
  }();
  return *instance;
}

/// Random values for `type`: floats uniform in [-3, 3), integers in [lo, hi), bools 0/1.
inline Tensor randomTensor(const TensorType &type, std::mt19937 &rng, int64_t lo = -5,
                           int64_t hi = 5) {
  Tensor t(type.dtype, type.shape);
  std::uniform_real_distribution<double> real(-3.0, 3.0);
  std::uniform_int_distribution<int64_t> integer(lo, hi - 1);
  for (int64_t i = 0; i < t.numElements(); ++i) {
    if (isFloat(type.dtype))
      t.set(i, real(rng));
    else if (type.dtype == DType::Bool)
      t.set(i, double(integer(rng) & 1));
    else
      t.set(i, double(integer(rng)));
  }
  return t;
}

/// A one-op graph: inputs of the given types feeding one `op` node, which is returned.
inline Node *makeOp(Graph &g, Op op, const std::vector<TensorType> &inputs, AttrMap attrs = {},
                    const std::string &name = "op") {
  std::vector<Value> operands;
  for (const TensorType &t : inputs) {
    auto in = g.addInput(g.uniqueName("in"), t);
    EXPECT_TRUE(in.ok()) << in.message();
    if (!in.ok())
      return nullptr;
    operands.push_back((*in)->result());
  }
  auto n = g.addNode(op, name, operands, std::move(attrs));
  EXPECT_TRUE(n.ok()) << n.message();
  return n.ok() ? *n : nullptr;
}

/// Runs `node`'s kernel on `operands` with run counter `run`. Results start as 0xA5 bytes, so an
/// element the kernel does not write shows up in the comparison.
inline std::vector<Tensor> runKernel(const Node &node, std::vector<Tensor> operands,
                                     uint64_t run = 0, uint64_t graphSeed = 0, int threads = 0) {
  auto fn = jitKernel(jit(), node, graphSeed);
  EXPECT_TRUE(fn.ok()) << fn.message();
  if (!fn.ok())
    return {};
  std::vector<Tensor> results;
  std::vector<void *> pointers;
  for (unsigned r = 0; r < node.numResults(); ++r) {
    results.emplace_back(node.type(r).dtype, node.type(r).shape);
    std::memset(results.back().raw(), 0xA5, results.back().byteSize());
  }
  for (Tensor &t : results)
    pointers.push_back(t.raw());
  for (Tensor &t : operands)
    pointers.push_back(t.raw());
  runtime::setNumThreads(threads);
  (*fn)(pointers.data(), int64_t(run));
  runtime::setNumThreads(0);
  return results;
}

/// evalOp's results for the same operands.
inline std::vector<Tensor> reference(const Node &node, const std::vector<Tensor> &operands,
                                     EvalContext ctx = {}) {
  auto ref = evalOp(node, operands, ctx);
  EXPECT_TRUE(ref.ok()) << ref.message();
  return ref.ok() ? *ref : std::vector<Tensor>{};
}

/// Every element bit for bit; reports the first few differences.
inline void expectIdentical(const std::vector<Tensor> &got, const std::vector<Tensor> &want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t r = 0; r < got.size(); ++r) {
    ASSERT_EQ(got[r].dtype(), want[r].dtype());
    ASSERT_EQ(got[r].shape(), want[r].shape());
    if (got[r].identical(want[r]))
      continue;
    size_t size = dtypeSize(got[r].dtype());
    int shown = 0;
    for (int64_t i = 0; i < got[r].numElements() && shown < 5; ++i)
      if (std::memcmp(got[r].data<char>() + i * size, want[r].data<char>() + i * size, size)) {
        ADD_FAILURE() << "result " << r << "[" << i << "] = " << got[r].at(i) << ", expected "
                      << want[r].at(i);
        ++shown;
      }
    if (shown == 0)
      ADD_FAILURE() << "results differ";
  }
}

/// Within `rel` relative (to max(|want|, 1e-30)); NaN must match NaN.
inline void expectClose(const std::vector<Tensor> &got, const std::vector<Tensor> &want,
                        double rel) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t r = 0; r < got.size(); ++r) {
    ASSERT_EQ(got[r].dtype(), want[r].dtype());
    ASSERT_EQ(got[r].shape(), want[r].shape());
    int bad = 0;
    for (int64_t i = 0; i < got[r].numElements(); ++i) {
      double g = got[r].at(i), w = want[r].at(i);
      bool ok = std::isnan(w) ? std::isnan(g) : std::fabs(g - w) <= rel * std::fabs(w) + 1e-300;
      if (!ok && bad++ < 5)
        ADD_FAILURE() << "result " << r << "[" << i << "] = " << g << ", expected " << w;
    }
    EXPECT_EQ(bad, 0);
  }
}

/// Builds `op` over inputs of the given types, runs kernel and evalOp on random operands, and
/// compares bit for bit (rel < 0) or within `rel`.
inline void checkOp(Op op, const std::vector<TensorType> &inputs, AttrMap attrs, double rel = -1,
                    int threads = 0) {
  Graph g;
  Node *n = makeOp(g, op, inputs, std::move(attrs));
  ASSERT_NE(n, nullptr);
  SCOPED_TRACE(std::string(n->info().mnemonic) + " on " + inputs[0].str());
  std::mt19937 rng(unsigned(inputs.size() * 7919 + inputs[0].numElements()));
  std::vector<Tensor> operands;
  for (const TensorType &t : inputs)
    operands.push_back(randomTensor(t, rng));
  std::vector<Tensor> got = runKernel(*n, operands, 0, 0, threads);
  std::vector<Tensor> want = reference(*n, operands);
  if (rel < 0)
    expectIdentical(got, want);
  else
    expectClose(got, want, rel);
}

} // namespace kiln::codegen::kernelcheck
