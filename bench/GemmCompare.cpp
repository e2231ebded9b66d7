// gemmShapes and compareGemms: the generated GEMM against dnnl_sgemm on a sample's own shapes.
#include "GemmCompare.h"

#include "compiler/codegen/GemmGen.h"
#include "kiln/runtime/Parallel.h"

#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

namespace kiln::bench {
namespace {

using Clock = std::chrono::steady_clock;

void addShape(std::vector<GemmShape> &out, GemmShape s) {
  for (GemmShape &o : out)
    if (o.m == s.m && o.n == s.n && o.k == s.k && o.transposeA == s.transposeA &&
        o.transposeB == s.transposeB) {
      ++o.count;
      return;
    }
  out.push_back(std::move(s));
}

/// The GEMMs EmitConvGemm.cpp runs for an NHWC groups-1 f32 convolution node (any of the
/// three conv ops), from x [N,H,W,Ci], w [KH,KW,Ci,Co] and y [N,OH,OW,Co].
void addConv(std::vector<GemmShape> &out, const Node &n, const Shape &x, const Shape &w,
             const Shape &y) {
  if (n.attrStr("data_format") != "NHWC" || n.attrInt("groups") != 1 || x.size() != 4 ||
      w.size() != 4 || y.size() != 4)
    return;
  int64_t p = y[1] * y[2], k = w[0] * w[1] * w[2], co = w[3];
  // An if chain, not a switch: only three of the ops matter here.
  if (n.op() == Op::Conv2D)
    addShape(out, {p, co, k, false, false, "conv fwd per image: " + n.name()});
  else if (n.op() == Op::Conv2DBackpropInput)
    addShape(out, {p, k, co, false, true, "conv dx per image: " + n.name()});
  else if (n.op() == Op::Conv2DBackpropFilter) {
    // Images go in chunks of at most 8 MB of columns (emitBackpropFilterNhwc's arithmetic);
    // the full chunk's GEMM is the one that runs most.
    const int64_t chunkBytes = 8 << 20, perImage = p * k * 4, batch = x[0];
    int64_t chunks = std::clamp<int64_t>((batch * perImage + chunkBytes - 1) / chunkBytes, 1, batch);
    int64_t chunk = (batch + chunks - 1) / chunks;
    addShape(out, {k, co, chunk * p, true, false,
                   "conv dW " + std::to_string(chunk) + " images: " + n.name()});
  }
}

void collect(const Graph &g, std::vector<GemmShape> &out) {
  for (const auto &node : g.nodes()) {
    const Node &n = *node;
    if (n.op() == Op::Fused && n.body()) {
      collect(*n.body(), out);
      continue;
    }
    if (n.type().dtype != DType::F32)
      continue;
    if (n.op() == Op::Matmul) {
      const Shape &a = n.operand(0).type().shape, &b = n.operand(1).type().shape;
      if (a.size() != 2 || b.size() != 2)
        continue; // batched: one GEMM per batch element, not this comparison's subject
      bool ta = n.attrBool("transpose_a"), tb = n.attrBool("transpose_b");
      addShape(out, {ta ? a[1] : a[0], tb ? b[0] : b[1], ta ? a[0] : a[1], ta, tb,
                     "matmul: " + n.name()});
    } else if (n.op() == Op::Conv2D) {
      addConv(out, n, n.operand(0).type().shape, n.operand(1).type().shape, n.type().shape);
    } else if (n.op() == Op::Conv2DBackpropInput) {
      addConv(out, n, n.type().shape, n.operand(1).type().shape, n.operand(0).type().shape);
    } else if (n.op() == Op::Conv2DBackpropFilter) {
      addConv(out, n, n.operand(0).type().shape, n.type().shape, n.operand(1).type().shape);
    }
  }
}

/// Seconds per call of the best of `reps` batches of calls, each batch about 2 ms long. The
/// best, not the median: on a shared host a batch that lost its core to another process says
/// nothing about either GEMM, and both sides are measured the same way.
template <typename Fn> double bestSeconds(Fn &&fn, int reps) {
  for (int i = 0; i < 3; ++i)
    fn();
  auto t0 = Clock::now();
  fn();
  double once = std::max(1e-7, std::chrono::duration<double>(Clock::now() - t0).count());
  int64_t batch = std::max<int64_t>(1, int64_t(2e-3 / once));
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto s = Clock::now();
    for (int64_t i = 0; i < batch; ++i)
      fn();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - s).count() / double(batch));
  }
  return best;
}

} // namespace

std::vector<GemmShape> gemmShapes(const Graph &g) {
  std::vector<GemmShape> out;
  collect(g, out);
  return out;
}

Expected<std::vector<GemmRow>> compareGemms(const std::string &sample,
                                            const std::vector<GemmShape> &shapes,
                                            const std::vector<int> &threads, bool quick) {
  static Expected<std::unique_ptr<codegen::Jit>> jit = codegen::Jit::create();
  if (!jit.ok())
    return jit.status();
  const int reps = quick ? 7 : 25;
  std::vector<GemmRow> rows;
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (const GemmShape &s : shapes) {
    std::vector<float> a(size_t(s.m * s.k)), b(size_t(s.k * s.n)), ck(size_t(s.m * s.n)),
        cd(size_t(s.m * s.n));
    for (float &x : a)
      x = dist(rng);
    for (float &x : b)
      x = dist(rng);
    codegen::GemmSpec spec;
    spec.m = s.m, spec.n = s.n, spec.k = s.k;
    spec.transposeA = s.transposeA, spec.transposeB = s.transposeB;
    auto t0 = Clock::now();
    KILN_ASSIGN(codegen::GemmKernel kernel, codegen::compileGemm(**jit, spec));
    double jitMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
    for (int t : threads) {
      runtime::setNumThreads(t);
      auto runKiln = [&] { kernel.fn(a.data(), b.data(), ck.data()); };
      auto runDnnl = [&] {
        dnnl_sgemm(s.transposeA ? 'T' : 'N', s.transposeB ? 'T' : 'N', s.m, s.n, s.k, 1.0f,
                   a.data(), s.transposeA ? s.m : s.k, b.data(), s.transposeB ? s.k : s.n, 0.0f,
                   cd.data(), s.n);
      };
      GemmRow r;
      r.sample = sample;
      r.shape = s;
      r.threads = t;
      r.jitMs = jitMs;
      r.kilnGflops = flops / bestSeconds(runKiln, reps) / 1e9;
      r.dnnlGflops = flops / bestSeconds(runDnnl, reps) / 1e9;
      for (size_t i = 0; i < ck.size(); ++i)
        r.maxAbsDiff = std::max(r.maxAbsDiff, double(std::abs(ck[i] - cd[i])));
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

void printGemmTable(const std::vector<GemmRow> &rows) {
  std::printf("\ngenerated GEMM vs oneDNN dnnl_sgemm on each sample's shapes (x N: nodes with the "
              "shape)\n%-12s %6s %6s %7s %2s %3s %7s %9s %9s %6s %9s  %s\n",
              "sample", "M", "N", "K", "tr", "thr", "jit ms", "kiln GF/s", "dnnl GF/s", "ratio",
              "max|diff|", "from");
  for (const GemmRow &r : rows) {
    const GemmShape &s = r.shape;
    std::printf("%-12s %6ld %6ld %7ld %c%c %3d %7.1f %9.1f %9.1f %5.0f%% %9.2e  %s x%d\n",
                r.sample.c_str(), long(s.m), long(s.n), long(s.k), s.transposeA ? 'T' : 'N',
                s.transposeB ? 'T' : 'N', r.threads, r.jitMs, r.kilnGflops, r.dnnlGflops,
                r.dnnlGflops > 0 ? 100 * r.kilnGflops / r.dnnlGflops : 0.0, r.maxAbsDiff,
                s.origin.c_str(), s.count);
  }
}

std::string gemmJson(const GemmRow &r) {
  const GemmShape &s = r.shape;
  char buf[640];
  std::snprintf(buf, sizeof buf,
                "{\"bench\":\"sample_gemm\",\"sample\":\"%s\",\"m\":%ld,\"n\":%ld,\"k\":%ld,"
                "\"transA\":%s,\"transB\":%s,\"threads\":%d,\"jit_ms\":%.2f,"
                "\"kiln_gflops\":%.2f,\"dnnl_gflops\":%.2f,\"ratio\":%.3f,"
                "\"max_abs_diff\":%.3g,\"nodes\":%d}",
                r.sample.c_str(), long(s.m), long(s.n), long(s.k), s.transposeA ? "true" : "false",
                s.transposeB ? "true" : "false", r.threads, r.jitMs, r.kilnGflops, r.dnnlGflops,
                r.dnnlGflops > 0 ? r.kilnGflops / r.dnnlGflops : 0.0, r.maxAbsDiff, s.count);
  return buf;
}

} // namespace kiln::bench
